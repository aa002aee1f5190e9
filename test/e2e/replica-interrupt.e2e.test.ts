/**
 * Ctrl-C on a replica (`npm run replica`, and the same handler under `npm run e2e` and
 * `npm run bench`): SIGINT while setup.sh is half way, and once the host is ready. Only
 * the Node process gets the signal (a terminal would signal pebble and the helpers too),
 * so everything must be stopped by the replica itself: it exits 130 and leaves no process
 * running as its app user or from its root, no user, no group, no root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../lib/child-process';
import { leftovers } from '../../testing/replica/leftovers';
import { repoRoot } from '../../testing/replica/paths';

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | string>;
}

function startReplicaCli(): Run {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('testing', 'replica', 'replica-command.ts')], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited };
}

/** The root and app user the replica announces first. */
async function identity(run: Run): Promise<{ root: string; user: string }> {
  return waitFor('the replica to name its root', () => {
    const match = /\[replica\] root (\S+), app user (\S+)/.exec(run.output());
    return match ? { root: match[1]!, user: match[2]! } : undefined;
  }, 60000, 50);
}

async function interruptAndCheck(run: Run, root: string, user: string): Promise<void> {
  run.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolveLate) => (timer = setTimeout(() => resolveLate('still running after 90 s'), 90000)));
  const code = await Promise.race([run.exited, late]);
  clearTimeout(timer);
  if (code !== 130) run.child.kill('SIGKILL');
  expect({ code, said: run.output().includes('SIGINT: stopping the replica') }).toEqual({ code: 130, said: true });
  expect(leftovers(root, user)).toEqual({ processes: [], user: false, group: false, root: false });
}

describe('SIGINT on a running replica', () => {
  it('while setup.sh runs (nginx already started by it): everything stopped, nothing left, exit 130', async () => {
    const run = startReplicaCli();
    const { root, user } = await identity(run);
    // setup.sh starts nginx with the bootstrap site before it asks for the certificate.
    await waitFor('setup.sh to start nginx', () => (existsSync(join(root, 'nginx', 'nginx.pid')) ? true : undefined), 120000, 50);
    await interruptAndCheck(run, root, user);
  }, 240000);

  it('once the host is ready (PM2 and the app running): everything stopped, nothing left, exit 130', async () => {
    const run = startReplicaCli();
    const { root, user } = await identity(run);
    // A replica that never gets ready says where it stopped (the end of its output).
    await waitFor('the replica to be ready', () => (run.output().includes('Press Ctrl-C to stop it.') ? true : undefined), 180000, 100).catch((error: Error) => {
      run.child.kill('SIGINT');
      throw new Error(`${error.message}; its output ends:\n${run.output().slice(-3000)}`);
    });
    expect(leftovers(root, user).processes.some((line) => line.includes('PM2'))).toBe(true);
    await interruptAndCheck(run, root, user);
  }, 300000);
});
