/**
 * Long-running helpers the replica starts (pebble, DNS, ...), each with its
 * output in a log file, stopped by PID — on success and on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { stopPids } from '../../lib/child-process';

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
    const pids = this.started.map((entry) => entry.pid).reverse();
    this.started.length = 0;
    await stopPids(pids, graceMs);
  }
}
