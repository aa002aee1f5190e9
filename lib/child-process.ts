/**
 * Processes the tools start (authorization server, provider app, nginx, pebble):
 * wait, bounded in time, until one is ready; stop it by PID and wait for the exit.
 * Every wait has a deadline, and a child that dies while we wait is an error that
 * says so instead of a timeout.
 */
import type { ChildProcess } from 'node:child_process';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** Whether a process with this PID exists (also one owned by another user). */
export function isAlive(pid: number): boolean {
  // 0 and negative numbers address process groups: never signal those.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `name` to `pid` if it is still there; a process that exits meanwhile is not an error. */
export function signal(pid: number, name: NodeJS.Signals): void {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, name);
  } catch {
    // exited in between
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Polls `check` until it returns a value, bounded in time; the error names what was awaited. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface ReadyOptions {
  /** Names the process in errors, e.g. `authz-server`. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Appended to an error, e.g. the last lines of the child's log. */
  readonly explain?: () => string;
}

/**
 * Resolves with the value `watch` reports through `ready`; rejects on `fail`, when
 * the child exits first, or after `timeoutMs`. `watch` subscribes to whatever
 * signals readiness (output, IPC, polling) and returns how to unsubscribe.
 */
export function waitUntilReady<T>(
  child: ChildProcess,
  options: ReadyOptions,
  watch: (ready: (value: T) => void, fail: (error: Error) => void) => () => void,
): Promise<T> {
  const { what, timeoutMs, explain = () => '' } = options;
  return new Promise<T>((resolveReady, reject) => {
    let unwatch = (): void => undefined;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      unwatch();
      outcome();
    };
    const onExit = (code: number | null, exitSignal: NodeJS.Signals | null): void =>
      settle(() => reject(new Error(`${what} exited (${code ?? exitSignal}) before it was ready${explain()}`)));
    const timer = setTimeout(() => settle(() => reject(new Error(`${what} did not become ready within ${timeoutMs} ms${explain()}`))), timeoutMs);
    child.once('exit', onExit);
    if (hasExited(child)) {
      onExit(child.exitCode, child.signalCode);
      return;
    }
    unwatch = watch(
      (value) => settle(() => resolveReady(value)),
      (error) => settle(() => reject(error)),
    );
    if (settled) unwatch();
  });
}

/** Ready once a line of the child's stdout parses to a value (`parse` returns undefined for other lines). */
export function readyLine<T>(child: ChildProcess, options: ReadyOptions, parse: (line: string) => T | undefined): Promise<T> {
  return waitUntilReady<T>(child, options, (ready, fail) => {
    let pending = '';
    const onData = (chunk: Buffer | string): void => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      try {
        for (const line of lines) {
          const value = parse(line);
          if (value !== undefined) return ready(value);
        }
      } catch (error) {
        fail(error as Error);
      }
    };
    child.stdout!.on('data', onData);
    return () => child.stdout!.off('data', onData);
  });
}

/** Ready once the child sends the IPC message `ready` (PM2's wait_ready protocol). */
export function readyMessage(child: ChildProcess, options: ReadyOptions): Promise<void> {
  return waitUntilReady<void>(child, options, (ready) => {
    const onMessage = (message: unknown): void => {
      if (message === 'ready') ready();
    };
    child.on('message', onMessage);
    return () => child.off('message', onMessage);
  });
}

/** Ready once `check` resolves true, polled every `intervalMs` while the child runs. */
export function readyWhen(child: ChildProcess, options: ReadyOptions, check: () => Promise<boolean>, intervalMs = 50): Promise<void> {
  return waitUntilReady<void>(child, options, (ready, fail) => {
    let stopped = false;
    void (async () => {
      while (!stopped) {
        if (await check()) return ready();
        await sleep(intervalMs);
      }
    })().catch(fail);
    return () => {
      stopped = true;
    };
  });
}

/**
 * Stops a child we spawned: SIGTERM, then SIGKILL after `graceMs`; resolves once it
 * has exited. Safe to call twice or on a child that already exited.
 */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Stops processes by PID (also ones we did not spawn, like a daemon's master):
 * SIGTERM to all, SIGKILL to whatever is left after `graceMs`.
 */
export async function stopPids(pids: readonly number[], graceMs = 5000): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) signal(pid, 'SIGKILL');
}
