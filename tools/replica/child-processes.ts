/**
 * Long-running helpers the replica starts (pebble, DNS, ...), each with its
 * output in a log file, stopped by PID — on success and on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
}

export class ChildProcesses {
  private readonly started: Started[] = [];

  /** Spawns `command`, stdout and stderr appended to `logFile`. */
  spawn(name: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Started {
    const fd = openSync(options.logFile, 'a');
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    const entry = { name, pid: child.pid, child };
    this.started.push(entry);
    return entry;
  }

  /** Registers a process started elsewhere (a daemon's PID from its pid file). */
  adopt(name: string, pid: number): void {
    this.started.push({ name, pid, child: undefined as unknown as ChildProcess });
  }

  pids(): readonly number[] {
    return this.started.map((entry) => entry.pid);
  }

  /** SIGTERM in reverse start order, then SIGKILL whatever is left after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    const entries = [...this.started].reverse();
    this.started.length = 0;
    for (const { pid } of entries) signal(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (entries.some(({ pid }) => alive(pid)) && Date.now() < deadline) await sleep(50);
    for (const { pid } of entries) if (alive(pid)) signal(pid, 'SIGKILL');
  }
}

export function alive(pid: number): boolean {
  // 0 and negative numbers address process groups: never signal those.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  if (!alive(pid)) return;
  try {
    process.kill(pid, name);
  } catch {
    // exited in between
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
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
