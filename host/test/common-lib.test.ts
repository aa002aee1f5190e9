/** host/scripts/lib/common.sh: how settings are read and files installed. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtHostRenderer } from '../../testing/host-renderer';

const COMMON = resolve(__dirname, '..', 'scripts', 'lib', 'common.sh');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'common-sh-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function bash(script: string, env: Record<string, string> = {}) {
  const result = spawnSync('bash', ['-c', `set -euo pipefail; . "${COMMON}"; ${script}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', PH_ETC: dir, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A host.env the stack could have written (contract/host-settings.ts). */
const HOST_ENV = [
  'PH_DOMAIN=provider.example.com', 'PH_REGION=eu-west-2', 'PH_BUCKET=bucket-1', 'PH_BUNDLE_KEY=bundles/abc.zip',
  'PH_ISSUER=https://issuer.example.com/', 'PH_CLIENT_ID=client-1', 'PH_SCOPE=energydata',
  'PH_TLS_CERT_PARAM=/p/cert', 'PH_TLS_KEY_PARAM=/p/key', 'PH_APP_INSTANCES=3', 'PH_HOST_CONFIG_PARAM=/p/host-config',
].join('\n');

describe('set_defaults: the host settings, through the shipped renderer', () => {
  const settings = (script: string, env: Record<string, string> = {}) => bash(`set_defaults; ${script}`, { PH_RENDER: builtHostRenderer(), PH_NODE: process.execPath, ...env });

  it('exports the settings of host.env, and the contract defaults for those it leaves out', () => {
    writeFileSync(join(dir, 'host.env'), `${HOST_ENV}\n`);
    const result = settings('echo "$PH_DOMAIN $PH_APP_INSTANCES $PH_AUTHZ_CACHE_SECONDS $PH_TRUST_BUNDLE_KEY $PH_ACME_STAGING"');
    expect(result.stderr).not.toMatch(/host-render|ERROR/);
    expect(result.stdout).toBe('provider.example.com 3 1 trust/client-ca-bundle.pem false\n');
  });

  it('lets the caller environment win over host.env (the replica points paths elsewhere)', () => {
    writeFileSync(join(dir, 'host.env'), `${HOST_ENV}\n`);
    expect(settings('echo "$PH_DOMAIN"', { PH_DOMAIN: 'other.example.com' }).stdout).toBe('other.example.com\n');
  });

  it('refuses a line that is not PH_KEY=shell-safe-value, naming it, and runs nothing from it', () => {
    writeFileSync(join(dir, 'host.env'), `${HOST_ENV}\nPH_SCOPE=$(touch ${join(dir, 'pwned')})\n`);
    const result = settings('echo loaded');
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`host-render: ${join(dir, 'host.env')}:12: not PH_KEY=shell-safe-value`);
    expect(result.stderr).toContain('ERROR: the host settings are not valid (above)');
    expect(readdirSync(dir)).not.toContain('pwned');
  });

  it('names a value its rule refuses, and a setting that is missing, with the fix', () => {
    writeFileSync(join(dir, 'host.env'), `${HOST_ENV.replace('PH_APP_INSTANCES=3', 'PH_APP_INSTANCES=99').replace('PH_CLIENT_ID=client-1\n', '')}\n`);
    const result = settings('echo loaded');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('PH_APP_INSTANCES (appInstances): 99 is too many for one host; use an integer from 1 to 16');
    expect(result.stderr).toContain('PH_CLIENT_ID (clientId): is missing; the stack writes it (deploy again)');
  });

  it('says which bundle file is missing when there is no renderer', () => {
    writeFileSync(join(dir, 'host.env'), `${HOST_ENV}\n`);
    const result = settings('echo loaded', { PH_RENDER: join(dir, 'nope.js'), PH_CURRENT: dir });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`ERROR: the bundle at ${dir} has no renderer (${join(dir, 'nope.js')}); deploy a complete bundle`);
  });
});

describe('install_content', () => {
  it('installs, recording a change; then records none and leaves the file alone (status 0 both times)', () => {
    const dest = join(dir, 'site.conf');
    const owner = `${process.getuid?.() ?? 0}`;
    const first = bash(`install_content "${dest}" 0640 "${owner}:${owner}" <<<hello; echo "status=$? changes=$PH_CHANGES"`);
    expect(first.stdout).toBe('status=0 changes=1\n');
    expect(first.stderr).toContain(`changed: ${dest}`);
    const inode = statSync(dest).ino;
    const second = bash(`install_content "${dest}" 0640 "${owner}:${owner}" <<<hello; echo "status=$? changes=$PH_CHANGES"`);
    expect(second.stdout).toBe('status=0 changes=0\n');
    expect(second.stderr).not.toContain('changed:');
    expect(statSync(dest).ino).toBe(inode);
    expect((statSync(dest).mode & 0o777).toString(8)).toBe('640');
    expect(readFileSync(dest, 'utf8')).toBe('hello\n');
  });

  it('replaces a changed file atomically (new inode, never a half-written file)', () => {
    const dest = join(dir, 'site.conf');
    writeFileSync(dest, 'old\n');
    const inode = statSync(dest).ino;
    const owner = `${process.getuid?.() ?? 0}`;
    bash(`install_content "${dest}" 0644 "${owner}:${owner}" <<<new`);
    expect(readFileSync(dest, 'utf8')).toBe('new\n');
    expect(statSync(dest).ino).not.toBe(inode);
  });

  it('dies naming the folder when it cannot write there, even when called where set -e does not hold', () => {
    const dest = join(dir, 'missing', 'site.conf');
    const owner = `${process.getuid?.() ?? 0}`;
    const result = bash(`install_content "${dest}" 0644 "${owner}:${owner}" <<<hello || true; echo survived`);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`ERROR: cannot create a temporary file next to ${dest} (does ${join(dir, 'missing')} exist, and is it writable?)`);
  });

  it('dies, leaving no temporary file, when the owner does not exist', () => {
    const dest = join(dir, 'site.conf');
    const result = bash(`install_content "${dest}" 0644 no-such-user-ph:no-such-group-ph <<<hello || true; echo survived`);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`ERROR: cannot write ${dest} with mode 0644 and owner no-such-user-ph:no-such-group-ph`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('track', () => {
  it('sets the flag when the step recorded a change, and leaves it otherwise', () => {
    const result = bash('f() { changed "something"; }; g() { :; }; a=0 b=0; track a f; track b g; echo "$a $b"');
    expect(result.stdout).toBe('1 0\n');
  });

  it('runs the step with set -e in force: a failing command inside it stops the run', () => {
    const result = bash('f() { false; changed "after a failure"; }; a=0; track a f; echo "not reached $a"');
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('changed: after a failure');
  });
});
