/**
 * The app user may not reach the instance metadata service (and so not the
 * instance role's credentials), proven with real packets: in a network
 * namespace of its own, 169.254.169.254 and fd00:ec2::254 are local addresses,
 * the IMDSv2 stand-in listens there on port 80, and the host
 * script's own step (install_metadata_guard from the built bundle, with nft
 * pointed at the namespace) writes and loads the rule set. Then the app user
 * (a throwaway), root and another throwaway user each try to get an IMDSv2
 * token. As root; the namespace and the users are removed afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readLines, runBash, writeSystemctlStub } from '../../testing/host-scripts';
import { IMDS_ROLE_NAME } from '../../testing/replica/imds-standin';

const REPO = resolve(__dirname, '..', '..');
const BUNDLE = process.env.PH_REPLICA_BUNDLE ?? join(REPO, 'dist', 'host-bundle');
const NS = `phguard${process.pid}`;
const APP_USER = `phguard${process.pid}a`;
const OTHER_USER = `phguard${process.pid}b`;
const IMDS_V4 = 'http://169.254.169.254';
const IMDS_V6 = 'http://[fd00:ec2::254]';

let dir: string;
let imds: ChildProcess | undefined;
let env: Record<string, string>;

function must(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

/** An IMDSv2 token request from inside the namespace, as USER (root when undefined). */
function askForToken(base: string, user?: string): { status: number | null; stdout: string; stderr: string } {
  const curl = ['curl', '-sS', '--max-time', '5', '-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 60', `${base}/latest/api/token`];
  const argv = ['netns', 'exec', NS, ...(user ? ['runuser', '-u', user, '--'] : []), ...curl];
  const result = spawnSync('ip', argv, { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Token, then the role's name: what a process needs before it asks for the credentials. */
function askForRole(base: string, user?: string): string {
  const token = askForToken(base, user);
  if (token.status !== 0) return `refused: ${token.stderr.trim()}`;
  const argv = ['netns', 'exec', NS, ...(user ? ['runuser', '-u', user, '--'] : []), 'curl', '-sS', '--max-time', '5', '-H', `X-aws-ec2-metadata-token: ${token.stdout}`, `${base}/latest/meta-data/iam/security-credentials/`];
  return spawnSync('ip', argv, { encoding: 'utf8' }).stdout;
}

const guard = (script: string) =>
  runBash(['-c', `set -euo pipefail; . "${join(BUNDLE, 'host', 'scripts', 'lib', 'provisioning.sh')}"; ${script}`], env);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this test creates a network namespace and users: run it as root');
  for (const tool of ['nft', 'ip', 'curl', 'runuser']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is missing (apt-get install -y nftables iproute2 curl util-linux; .ci/run installs them)`);
  }
  if (!existsSync(join(BUNDLE, 'host', 'scripts', 'lib', 'metadata-guard.sh'))) throw new Error(`no bundle at ${BUNDLE}: npm run build && npm run bundle`);
  dir = mkdtempSync(join(tmpdir(), 'hardening-host-'));
  for (const user of [APP_USER, OTHER_USER]) must('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  must('ip', ['netns', 'add', NS]);
  must('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  // On the namespace's loopback: a dummy interface needs a kernel module that CI
  // machines may lack, and the output hook sees loopback packets all the same.
  must('ip', ['-n', NS, 'addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
  must('ip', ['-n', NS, '-6', 'addr', 'add', 'fd00:ec2::254/128', 'dev', 'lo', 'nodad']);

  // The IMDSv2 stand-in (built), inside the namespace, where the real service answers.
  const standin = join(REPO, 'dist', 'testing', 'replica', 'imds-standin.js');
  const script = `const { startImdsStandin } = require(${JSON.stringify(standin)});
Promise.all([startImdsStandin('198.51.100.7', { host: '169.254.169.254', port: 80 }), startImdsStandin('198.51.100.7', { host: 'fd00:ec2::254', port: 80 })])
  .then((servers) => console.log('listening ' + servers.map((s) => s.url).join(' ')), (error) => { console.error(error); process.exit(1); });`;
  imds = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolveListening, reject) => {
    imds!.once('exit', (code) => reject(new Error(`the IMDS stand-in exited (${code})`)));
    imds!.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolveListening();
    });
  });

  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'systemd'));
  writeSystemctlStub(bin, join(dir, 'systemctl-state'), join(dir, 'systemctl.log'));
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    PH_SCRIPT_NAME: 'setup.sh',
    PH_USER: APP_USER,
    PH_ETC: join(dir, 'etc'),
    PH_CURRENT: BUNDLE,
    PH_STATE: join(dir, 'state'),
    PH_SYSTEMD: '1',
    PH_SYSTEMD_DIR: join(dir, 'systemd'),
    PH_RENDER: join(BUNDLE, 'dist', 'host', 'host-render.js'),
    PH_NODE: process.execPath,
    // The same step and rule file as on the host; only nft is pointed at the namespace.
    PH_NFT: `ip netns exec ${NS} nft`,
  };
});

afterAll(async () => {
  if (imds && imds.exitCode === null) {
    const exited = new Promise((resolveExit) => imds!.once('exit', resolveExit));
    imds.kill('SIGTERM');
    await exited;
  }
  spawnSync('ip', ['netns', 'del', NS]);
  for (const user of [APP_USER, OTHER_USER]) spawnSync('userdel', [user]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the instance metadata, in a network namespace with the host script\'s nftables rule set', () => {
  it('before the guard (control): the app user gets an IMDSv2 token like anyone', () => {
    expect(askForToken(IMDS_V4, APP_USER)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(askForRole(IMDS_V6, APP_USER)).toBe(IMDS_ROLE_NAME);
  });

  it('install_metadata_guard writes the rule set for the app user\'s uid and loads it; a second run changes nothing', async () => {
    const first = await guard('install_metadata_guard; echo "changes=$PH_CHANGES"');
    expect(first.stderr).not.toContain('ERROR');
    expect(first.stdout).toBe('changes=4\n');
    expect(first.stderr).toContain('changed: metadata guard loaded (nft table inet provider_host)');
    const uid = must('id', ['-u', APP_USER]).trim();
    const rules = readFileSync(join(dir, 'etc', 'metadata-guard.nft'), 'utf8');
    expect(rules).toContain(`meta skuid ${uid} ip daddr 169.254.169.254 counter reject`);
    expect(rules).toContain(`meta skuid ${uid} ip6 daddr fd00:ec2::254 counter reject`);
    const loaded = must('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'provider_host']);
    expect(loaded).toMatch(/meta skuid \S+ ip daddr 169\.254\.169\.254 counter packets \d+ bytes \d+ reject/);
    expect(loaded).toMatch(/meta skuid \S+ ip6 daddr fd00:ec2::254 counter packets \d+ bytes \d+ reject/);

    const second = await guard('install_metadata_guard; echo "changes=$PH_CHANGES"');
    expect(second.stdout).toBe('changes=0\n');
    expect(readLines(join(dir, 'systemctl.log'))).toContain('systemctl enable --quiet provider-host-metadata-guard.service');
  });

  it('the app user is refused at 169.254.169.254:80 (IPv4)', () => {
    const result = askForToken(IMDS_V4, APP_USER);
    expect(result.status).toBe(7); // curl: could not connect
    expect(result.stderr).toMatch(/Connection refused|Couldn't connect/);
    expect(askForRole(IMDS_V4, APP_USER)).toMatch(/^refused: /);
  });

  it('the app user is refused at [fd00:ec2::254]:80 (IPv6)', () => {
    const result = askForToken(IMDS_V6, APP_USER);
    expect(result.status).toBe(7);
    expect(result.stderr).toMatch(/Connection refused|Couldn't connect/);
  });

  it('root still gets a token and the role, over IPv4 and IPv6', () => {
    expect(askForToken(IMDS_V4)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(askForRole(IMDS_V4)).toBe(IMDS_ROLE_NAME);
    expect(askForRole(IMDS_V6)).toBe(IMDS_ROLE_NAME);
  });

  it('another user is not matched by the rule (it names the app user\'s uid only)', () => {
    expect(askForToken(IMDS_V4, OTHER_USER)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(askForRole(IMDS_V6, OTHER_USER)).toBe(IMDS_ROLE_NAME);
  });

  it('the refusals were counted by the rules, and loading the file again keeps one copy of them', async () => {
    const counted = must('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'provider_host']);
    expect(counted).toMatch(/ip daddr 169\.254\.169\.254 counter packets [1-9]\d* /);
    expect(counted).toMatch(/ip6 daddr fd00:ec2::254 counter packets [1-9]\d* /);
    const again = await guard('load_metadata_guard');
    expect(again.status).toBe(0);
    const reloaded = must('ip', ['netns', 'exec', NS, 'nft', 'list', 'ruleset']);
    expect(reloaded.match(/table inet provider_host/g)).toHaveLength(1);
    expect(reloaded.match(/reject/g)).toHaveLength(2);
    expect(askForToken(IMDS_V4, APP_USER).status).toBe(7);
  });

  it('a flushed table (a reboot without the unit) is noticed by the next run and loaded again', async () => {
    must('ip', ['netns', 'exec', NS, 'nft', 'delete', 'table', 'inet', 'provider_host']);
    expect(askForToken(IMDS_V4, APP_USER).status).toBe(0);
    const run = await guard('install_metadata_guard; echo "changes=$PH_CHANGES"');
    expect(run.stdout).toBe('changes=1\n');
    expect(askForToken(IMDS_V4, APP_USER).status).toBe(7);
    expect(askForToken(IMDS_V6, APP_USER).status).toBe(7);
  });
});
