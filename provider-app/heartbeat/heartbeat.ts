/**
 * The IB1 heartbeat (data provider guidance): statistics of the responses of the period
 * between the two most recent heartbeat calls, `{ period_start, period_end,
 * api_call_response_<CODE>_count… }`, times in RFC 3339.
 *
 * Every response counts, whoever sent it — the app, nginx on a reused decision, nginx's own
 * refusals (400, 429, 495…) — because the source is nginx's JSON access log, which has one
 * line per client request, and not any one worker's memory. Heartbeat calls are not counted.
 * A response belongs to the period in which nginx logged it (when it completed).
 *
 * The state every PM2 worker shares lives in `stateDir`: the previous call's time and the
 * log position (file, inode, offset), replaced atomically. A lock file (created with O_EXCL)
 * makes one call at a time read and advance it, so concurrent heartbeats never count a line
 * twice; a lock older than `staleLockMs` is left by a crashed worker and taken over.
 *
 * The first period starts when the first app instance started with no state (`initialize`
 * records the time and the end of the log). If the state was lost since, the next call
 * counts the whole current log and its period starts at the log's first line.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../lib/atomic-file';
import { countResponses, endOfLog, type LogPosition } from './access-log-reader';

export const HEARTBEAT_STATE_FILE = 'heartbeat-state.json';
export const HEARTBEAT_LOCK_FILE = 'heartbeat.lock';

export interface HeartbeatOptions {
  readonly accessLogFile: string;
  readonly stateDir: string;
  /** The heartbeat's own path: its calls are not counted. */
  readonly path: string;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** Most log bytes one call reads; the rest counts in the next period. @default 256 MiB */
  readonly maxBytesPerCall?: number;
  /** Longest a call waits for another one's lock. @default 10000 */
  readonly lockWaitMs?: number;
  /** A lock older than this was left by a crashed worker. @default 120000 */
  readonly staleLockMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The body of a heartbeat answer. */
export type HeartbeatReport = {
  readonly period_start: string;
  readonly period_end: string;
} & { readonly [count: `api_call_response_${number}_count`]: number };

interface State {
  readonly version: 1;
  /** RFC 3339: the previous heartbeat call (or the first start). */
  readonly previousAt: string;
  readonly position: LogPosition;
}

/** Another call held the lock for longer than `lockWaitMs`: the caller answers 503. */
export class HeartbeatBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeartbeatBusy';
  }
}

function isState(value: unknown): value is State {
  const v = value as State;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === 1 &&
    typeof v.previousAt === 'string' &&
    !Number.isNaN(Date.parse(v.previousAt)) &&
    typeof v.position?.file === 'string' &&
    (v.position.inode === undefined || typeof v.position.inode === 'number') &&
    Number.isInteger(v.position.offset) &&
    v.position.offset >= 0
  );
}

export class Heartbeat {
  private readonly stateFile: string;
  private readonly lockFile: string;
  private readonly now: () => number;

  constructor(private readonly options: HeartbeatOptions) {
    this.stateFile = join(options.stateDir, HEARTBEAT_STATE_FILE);
    this.lockFile = join(options.stateDir, HEARTBEAT_LOCK_FILE);
    this.now = options.now ?? Date.now;
  }

  /** At start: when there is no state yet, the first period starts now, at the end of the log. */
  async initialize(): Promise<void> {
    await this.locked(async () => {
      if (await this.readState()) return;
      this.writeState({
        version: 1,
        previousAt: new Date(this.now()).toISOString(),
        position: await endOfLog(this.options.accessLogFile),
      });
    });
  }

  /** One heartbeat call: the report of the period since the previous one, which this call ends. */
  async beat(): Promise<HeartbeatReport> {
    return this.locked(async () => {
      const state = await this.readState();
      const end = this.now();
      const position: LogPosition = state && state.position.file === this.options.accessLogFile ? state.position : { file: this.options.accessLogFile, inode: undefined, offset: 0 };
      const counted = await countResponses(position, {
        excludePath: this.options.path,
        maxBytes: this.options.maxBytesPerCall ?? 256 * 1024 * 1024,
      });
      if (counted.skipped > 0) this.options.logger.warn({ skipped: counted.skipped, file: this.options.accessLogFile }, 'heartbeat: skipped access log lines that are not nginx JSON lines');
      if (counted.truncated) this.options.logger.warn({ file: this.options.accessLogFile }, 'heartbeat: read its byte budget; the rest of the log counts in the next period');
      if (counted.lostRotated)
        this.options.logger.warn({ file: this.options.accessLogFile }, 'heartbeat: the rotated log could not be finished (rotated again, or removed); its last lines are not counted');
      const firstLine = counted.firstTime === undefined ? Number.NaN : Date.parse(counted.firstTime);
      const start = state ? Date.parse(state.previousAt) : Number.isNaN(firstLine) ? end : Math.min(firstLine, end);
      this.writeState({
        version: 1,
        previousAt: new Date(end).toISOString(),
        position: counted.position,
      });
      const report: Record<string, string | number> = {
        period_start: new Date(start).toISOString(),
        period_end: new Date(end).toISOString(),
      };
      for (const [status, count] of [...counted.counts].sort(([a], [b]) => a - b)) report[`api_call_response_${status}_count`] = count;
      return report as HeartbeatReport;
    });
  }

  private async readState(): Promise<State | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (isState(parsed)) return parsed;
    } catch {
      // fall through
    }
    this.options.logger.warn({ file: this.stateFile }, 'heartbeat: the state file is not valid; starting a new period');
    return undefined;
  }

  private writeState(state: State): void {
    writeFileAtomic(this.stateFile, `${JSON.stringify(state)}\n`, 0o640);
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    const waitMs = this.options.lockWaitMs ?? 10_000;
    const staleMs = this.options.staleLockMs ?? 120_000;
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const handle = await fs.open(this.lockFile, 'wx', 0o640);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await fs.stat(this.lockFile).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > staleMs) {
        this.options.logger.warn({ file: this.lockFile }, 'heartbeat: taking over a stale lock (a worker died holding it)');
        await fs.rm(this.lockFile, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new HeartbeatBusy(`another heartbeat call held ${this.lockFile} for more than ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    try {
      return await work();
    } finally {
      await fs.rm(this.lockFile, { force: true });
    }
  }
}
