/** Where batched lines go: `process.stdout` in production. */
export interface LineSink {
  write(chunk: string): unknown;
}

/**
 * Collects log lines and hands them to `process.stdout` in one write every `intervalMs`.
 * Under PM2 cluster mode every `process.stdout.write` is one IPC message to the PM2 daemon
 * (serialised by the worker, parsed and written to the log file by the daemon): one per
 * request cost the app and the daemon together about as much as the rest of the request.
 * A line waits at most `intervalMs` (or until `maxBytes` are waiting); `flush()` writes the
 * rest at once (shutdown). A crash can lose at most the last `intervalMs` of lines.
 */
export class LogBatcher {
  private chunks: string[] = [];
  private bytes = 0;
  private scheduled: NodeJS.Timeout | undefined;

  /**
   * @param intervalMs longest a line waits
   * @param maxBytes written at once when this much is waiting
   */
  constructor(
    private readonly sink: LineSink = process.stdout,
    private readonly intervalMs = 20,
    private readonly maxBytes = 64 * 1024,
  ) {}

  write(line: string): boolean {
    this.chunks.push(line);
    this.bytes += line.length;
    if (this.bytes >= this.maxBytes) this.flush();
    else this.scheduled ??= setTimeout(() => this.flush(), this.intervalMs);
    return true;
  }

  /** Writes what is waiting now (pino's `logger.flush(cb)` calls this). */
  flush(done?: (error?: Error) => void): void {
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = undefined;
    if (this.chunks.length === 0) {
      done?.();
      return;
    }
    const text = this.chunks.length === 1 ? this.chunks[0]! : this.chunks.join('');
    this.chunks = [];
    this.bytes = 0;
    this.sink.write(text);
    done?.();
  }
}
