/**
 * Counts the responses nginx logged (its JSON access log, nginx/snippets/log-format.conf)
 * from a saved position to the end of the log, and says where it stopped.
 *
 * - Incremental: a position is a file, its inode and a byte offset; only complete lines
 *   are consumed, so a line nginx is still writing is read next time.
 * - Rotation: when the file's inode changed (logrotate renamed it) or it shrank
 *   (copytruncate), the rest of the rotated `<file>.1` is read from the saved offset — if
 *   it is still the file the position names — and then the new file from 0. Lines nginx
 *   writes into the old file after that read (between the rename and its reopen) are not
 *   seen: a few lines at most, once per rotation.
 * - Bounded: at most `maxBytes` per call; the rest is left for the next call.
 * - A line that is not a JSON object with a numeric status is skipped and counted.
 */
import { promises as fs } from 'node:fs';

export interface LogPosition {
  readonly file: string;
  /** Undefined: the file did not exist when the position was taken (read it from the start). */
  readonly inode: number | undefined;
  readonly offset: number;
}

export interface CountOptions {
  /** Lines whose request path is this one (any case, trailing slash ignored) are not counted: heartbeat calls. */
  readonly excludePath: string;
  readonly maxBytes: number;
  /** Read size. @default 1 MiB */
  readonly chunkBytes?: number;
}

export interface CountResult {
  /** Responses by status code. */
  readonly counts: ReadonlyMap<number, number>;
  /** Where the next call starts. */
  readonly position: LogPosition;
  /** Lines that were not an nginx JSON log line. */
  readonly skipped: number;
  /** The `time` of the first line read, as logged; undefined when none was. */
  readonly firstTime?: string;
  /** The byte budget ran out before the end of the log. */
  readonly truncated: boolean;
  /** The rotated file could not be finished (rotated twice, or removed): its rest is lost. */
  readonly lostRotated: boolean;
}

/** The end of the log now: the position from which a new period starts. */
export async function endOfLog(file: string): Promise<LogPosition> {
  const stat = await fs.stat(file).catch(() => undefined);
  return stat ? { file, inode: stat.ino, offset: stat.size } : { file, inode: undefined, offset: 0 };
}

/** Path of a request line (`GET /a/b?x HTTP/1.1` → `/a/b`), normalised as Express routes it. */
function requestPath(request: unknown): string | undefined {
  if (typeof request !== 'string') return undefined;
  const target = request.split(' ')[1];
  if (target === undefined) return undefined;
  const path = target.split('?')[0]!.toLowerCase();
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

class Tally {
  readonly counts = new Map<number, number>();
  skipped = 0;
  firstTime: string | undefined;
  constructor(private readonly excluded: string) {}

  line(text: string): void {
    if (text.trim() === '') return;
    let entry: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      entry = parsed as Record<string, unknown>;
    } catch {
      this.skipped += 1;
      return;
    }
    const status = entry.status;
    if (typeof status !== 'number' || !Number.isInteger(status)) {
      this.skipped += 1;
      return;
    }
    if (this.firstTime === undefined && typeof entry.time === 'string') this.firstTime = entry.time;
    if (requestPath(entry.request) === this.excluded) return;
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
  }
}

/**
 * Reads `path` from `from` up to its end (as it was when opened) or the budget, feeding
 * complete lines to `tally`; returns the offset after the last complete line. With `final`,
 * a last line without its newline is taken too (a rotated file gets no more writes… nearly).
 */
async function readLines(path: string, from: number, budget: { left: number }, tally: Tally, chunkBytes: number, final: boolean): Promise<{ offset: number; inode: number; done: boolean }> {
  const handle = await fs.open(path, 'r');
  try {
    const stat = await handle.stat();
    const end = stat.size;
    let offset = from;
    let carry = Buffer.alloc(0);
    const buffer = Buffer.alloc(chunkBytes);
    while (offset + carry.length < end && budget.left > 0) {
      const want = Math.min(chunkBytes, end - offset - carry.length, budget.left);
      const { bytesRead } = await handle.read(buffer, 0, want, offset + carry.length);
      if (bytesRead === 0) break;
      budget.left -= bytesRead;
      const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        tally.line(data.toString('utf8', start, nl));
        start = nl + 1;
      }
      offset += start;
      carry = Buffer.from(data.subarray(start));
    }
    const done = offset + carry.length >= end;
    if (done && final && carry.length > 0) {
      tally.line(carry.toString('utf8'));
      offset += carry.length;
    }
    return { offset, inode: stat.ino, done };
  } finally {
    await handle.close();
  }
}

/** Counts the responses logged since `position`; see the module comment. */
export async function countResponses(position: LogPosition, options: CountOptions): Promise<CountResult> {
  const tally = new Tally(requestPath(`GET ${options.excludePath} HTTP/1.1`)!);
  const budget = { left: options.maxBytes };
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const { file } = position;
  const current = await fs.stat(file).catch(() => undefined);
  let from = position.offset;
  let lostRotated = false;

  const rotated = position.inode !== undefined && (current === undefined || current.ino !== position.inode || current.size < position.offset);
  if (rotated) {
    const previous = await fs.stat(`${file}.1`).catch(() => undefined);
    // Renamed: `.1` is the very file. Copied and truncated: `.1` is a copy at least as long.
    const same = previous !== undefined && (previous.ino === position.inode || (current?.ino === position.inode && previous.size >= position.offset));
    if (same) {
      const read = await readLines(`${file}.1`, position.offset, budget, tally, chunkBytes, true);
      if (!read.done) {
        // Out of budget inside the rotated file: carry on there next time.
        return result(tally, { file, inode: position.inode, offset: read.offset }, true, false);
      }
    } else lostRotated = true;
    from = 0;
  }
  if (current === undefined) return result(tally, { file, inode: undefined, offset: 0 }, false, lostRotated);
  const read = await readLines(file, from, budget, tally, chunkBytes, false);
  return result(tally, { file, inode: read.inode, offset: read.offset }, !read.done && budget.left <= 0, lostRotated);
}

function result(tally: Tally, position: LogPosition, truncated: boolean, lostRotated: boolean): CountResult {
  return {
    counts: tally.counts,
    position,
    skipped: tally.skipped,
    ...(tally.firstTime === undefined ? {} : { firstTime: tally.firstTime }),
    truncated,
    lostRotated,
  };
}
