/** Samples the resident set size of a changing set of processes (the app's workers). */
import { readFileSync } from 'node:fs';

export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export class RssSampler {
  private peak = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: () => readonly number[], private readonly intervalMs = 100) {}

  /** The largest single worker's RSS right now. */
  current(): number {
    return Math.max(0, ...this.pids().map(rssBytes));
  }

  start(): this {
    this.peak = this.current();
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, this.current())), this.intervalMs);
    return this;
  }

  /** Stops and returns the peak seen (bytes, largest single worker). */
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, this.current());
  }
}
