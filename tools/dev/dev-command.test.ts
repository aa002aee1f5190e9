/**
 * `npm run dev` for real, as a user runs it: a child process from a fresh state
 * folder, ready banner, a dataset fetched with the client CLI, Ctrl-C (SIGINT to
 * the process group, as a terminal sends it), then nothing left running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlive } from '../../lib/child-process';
import type { SandboxState } from './sandbox-state';

const repo = resolve(__dirname, '..', '..');
const READY = 'Provider sandbox is ready.';

interface Run {
  readonly child: ChildProcess;
  readonly stateDir: string;
  output: string;
  state?: SandboxState;
}

async function startDev(env: NodeJS.ProcessEnv): Promise<Run> {
  const stateDir = mkdtempSync(join(tmpdir(), 'dev-command-'));
  // detached: its own process group, so the test can send SIGINT to all of it like a terminal
  const child = spawn('npm', ['run', '--silent', 'dev', '--', '--state-dir', stateDir, '--port', '0'], {
    cwd: repo,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { child, stateDir, output: '' };
  child.stdout!.on('data', (c: Buffer) => (run.output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (run.output += c.toString()));
  await new Promise<void>((ready, fail) => {
    const deadline = setTimeout(() => fail(new Error(`not ready within 60 s:\n${run.output}`)), 60_000);
    const poll = setInterval(() => {
      if (run.output.includes(READY)) {
        clearInterval(poll);
        clearTimeout(deadline);
        ready();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(deadline);
      fail(new Error(`npm run dev exited (${code}) before ready:\n${run.output}`));
    });
  });
  run.state = JSON.parse(readFileSync(join(stateDir, 'sandbox.json'), 'utf8')) as SandboxState;
  return run;
}

/** Command lines of live processes that mention `text` (Linux /proc), e.g. the state folder. */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Last resort for a failed test: kill whatever is still there, by PID. */
function killLeftovers(run: Run | undefined): void {
  if (!run) return;
  try {
    process.kill(-run.child.pid!, 'SIGKILL');
  } catch {
    // the group is gone already
  }
  for (const pid of Object.values(run.state?.pids ?? {})) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(run.stateDir, { recursive: true, force: true });
}

describe.each([
  ['auto: nginx when installed', {}, /terminator nginx \d/],
  ['SANDBOX_TERMINATOR=node: the Node fallback', { SANDBOX_TERMINATOR: 'node' }, /terminator Node https terminator/],
])('npm run dev from a fresh state (%s)', (_name, env, terminatorLine) => {
  let run: Run | undefined;

  beforeAll(async () => {
    run = await startDev(env);
  }, 90_000);

  afterAll(() => killLeftovers(run));

  it('creates the dev PKI and says which terminator runs', () => {
    expect(run!.output).toMatch(/dev PKI created in /);
    expect(run!.output).toMatch(terminatorLine);
    expect(run!.output).toContain(`URL        ${run!.state!.url}`);
    expect(statSync(join(run!.stateDir, 'pki', 'consumer.key')).mode & 0o777).toBe(0o600);
  });

  it('keeps private keys and tokens out of its output, logs and state file', () => {
    const logs = readdirSync(join(run!.stateDir, 'logs')).map((f) => readFileSync(join(run!.stateDir, 'logs', f), 'utf8'));
    for (const text of [run!.output, readFileSync(join(run!.stateDir, 'sandbox.json'), 'utf8'), ...logs]) {
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text).not.toMatch(/"access_token"|Bearer [A-Za-z0-9_-]{20,}/);
    }
  });

  it('serves a dataset the client CLI fetches with the sandbox identity', () => {
    const out = join(run!.stateDir, 'carbon-intensity.csv');
    const result = spawnSync('npm', ['run', '--silent', 'client', '--', 'get', 'carbon-intensity', '-o', out, '--sandbox-dir', run!.stateDir], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.stderr).toMatch(/^Saved carbon-intensity to .* \(17\.9 KiB/);
    expect(result.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(repo, 'sample-data', 'carbon-intensity.csv'), 'utf8'));
  }, 40_000);

  it("the banner's curl commands work as printed (token step, then the dataset)", () => {
    const banner = run!.output.slice(run!.output.indexOf(READY));
    const tokenStep = /^ {2}(TOKEN=\$\(curl[\s\S]*?access_token'\))$/m.exec(banner)?.[1];
    const fetchStep = /^ {2}(curl --cert .*)$/m.exec(banner)?.[1];
    expect(tokenStep).toBeDefined();
    expect(fetchStep).toMatch(/-H "Authorization: Bearer \$TOKEN" https:\/\/localhost:\d+\/carbon-intensity$/);
    const result = spawnSync('bash', ['-c', `set -euo pipefail\n${tokenStep}\n${fetchStep} --fail-with-body`], { cwd: repo, encoding: 'utf8', timeout: 20_000 });
    expect([result.status, result.stderr]).toEqual([0, expect.not.stringMatching(/curl: \(\d+\)/)]);
    expect(result.stdout).toBe(readFileSync(join(repo, 'sample-data', 'carbon-intensity.csv'), 'utf8'));
  }, 30_000);

  it('stops everything it started on Ctrl-C (SIGINT)', async () => {
    const { pids, socket } = run!.state!;
    expect(Object.keys(pids).sort()).toEqual((env as NodeJS.ProcessEnv).SANDBOX_TERMINATOR === 'node' ? ['app', 'authz', 'sandbox'] : ['app', 'authz', 'nginx', 'sandbox']);
    for (const pid of Object.values(pids)) expect(isAlive(pid)).toBe(true);
    expect(existsSync(socket)).toBe(true);

    const exited = new Promise<number | null>((done) => run!.child.once('exit', (code) => done(code)));
    process.kill(-run!.child.pid!, 'SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 20_000))]);
    expect(code).not.toBe('timeout');

    expect(run!.output).toContain('Stopped: every process the sandbox started has exited.');
    for (const [name, pid] of Object.entries(pids)) expect([name, isAlive(pid)]).toEqual([name, false]);
    expect(processesMentioning(run!.stateDir)).toEqual([]);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(run!.stateDir, 'sandbox.json'))).toBe(false);
  }, 30_000);
});
