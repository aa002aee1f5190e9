/**
 * provider-host-release.timer for the replica (which has no systemd): runs the host's
 * release-sync.sh on the cadence the shipped timer unit states (OnUnitActiveSec, read
 * from host/systemd/provider-host-release.timer), never two runs at once, as systemd
 * does for a oneshot service.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../lib/child-process';
import { repoRoot } from './paths';
import type { Replica, ScriptRun } from './replica';

/** The shipped timer's interval in ms (`OnUnitActiveSec=20s`). */
export function releaseTimerIntervalMs(unitFile = join(repoRoot(), 'host', 'systemd', 'provider-host-release.timer')): number {
  const match = /^OnUnitActiveSec=(\d+)(s|min)?$/m.exec(readFileSync(unitFile, 'utf8'));
  if (!match) throw new Error(`${unitFile} has no OnUnitActiveSec=<n>s|min`);
  return Number(match[1]) * (match[2] === 'min' ? 60000 : 1000);
}

export interface TimerRun extends ScriptRun {
  readonly startedAt: number;
  readonly endedAt: number;
}

export class ReleaseTimer {
  readonly runs: TimerRun[] = [];
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly replica: Replica,
    readonly intervalMs = releaseTimerIntervalMs(),
  ) {}

  start(): this {
    this.running = true;
    this.loop = this.tick();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The first run that started after `since` and ended, bounded by `timeoutMs`. */
  async runAfter(since: number, timeoutMs: number): Promise<TimerRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = this.runs.find((r) => r.startedAt >= since);
      if (run) return run;
      if (Date.now() > deadline) throw new Error(`no release-sync run within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  private async tick(): Promise<void> {
    while (this.running) {
      const startedAt = Date.now();
      const run = await this.replica.runHostScript('release-sync', 120000);
      this.runs.push({ ...run, startedAt, endedAt: Date.now() });
      // OnUnitActiveSec counts from the start of the last run.
      while (this.running && Date.now() < startedAt + this.intervalMs) await sleep(100);
    }
  }
}
