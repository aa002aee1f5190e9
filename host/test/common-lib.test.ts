/** host/scripts/lib/common.sh: how settings are read and files installed. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

describe('load_host_env', () => {
  it('exports PH_ values from host.env', () => {
    writeFileSync(join(dir, 'host.env'), 'PH_DOMAIN=provider.example.com\nPH_APP_INSTANCES=3\n');
    expect(bash('load_host_env; echo "$PH_DOMAIN $PH_APP_INSTANCES"').stdout).toBe('provider.example.com 3\n');
  });

  it('lets the caller environment win over host.env (the replica points paths elsewhere)', () => {
    writeFileSync(join(dir, 'host.env'), 'PH_DOMAIN=provider.example.com\n');
    expect(bash('load_host_env; echo "$PH_DOMAIN"', { PH_DOMAIN: 'other.example.com' }).stdout).toBe('other.example.com\n');
  });

  it('refuses a line that is not PH_KEY=shell-safe-value, naming it', () => {
    writeFileSync(join(dir, 'host.env'), 'PH_DOMAIN=$(touch pwned)\n');
    const result = bash('load_host_env; echo loaded');
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("line 'PH_DOMAIN=$(touch pwned)' is not PH_KEY=shell-safe-value");
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
