import { Transform, type TransformCallback } from 'node:stream';
import { formatBytes } from '../../lib/format-bytes';

export interface ProgressTarget {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export { formatBytes };

/**
 * A pass-through stream that draws `label [#####.....] 42% 1.2 MiB/2.9 MiB 3.4 MiB/s`
 * on a terminal (redrawn at most every `intervalMs`, erased at the end). On a
 * non-terminal it draws nothing, so pipes and logs stay clean.
 */
export class ProgressBar extends Transform {
  private received = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly target: ProgressTarget,
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly intervalMs = 100,
  ) {
    super();
  }

  get bytes(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    const now = Date.now();
    if (now - this.lastDraw >= this.intervalMs) {
      this.lastDraw = now;
      this.draw(now);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.target.isTTY) this.target.write('\r\x1b[2K');
    callback();
  }

  /** The text of the bar at `now`; exposed for tests. */
  line(now = Date.now()): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${formatBytes(this.received / seconds)}/s`;
    if (!this.total) return `${this.label} ${formatBytes(this.received)} ${rate}`;
    const fraction = Math.min(this.received / this.total, 1);
    const width = Math.max(10, Math.min(40, (this.target.columns ?? 80) - this.label.length - 45));
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    return `${this.label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(this.received)}/${formatBytes(this.total)} ${rate}`;
  }

  private draw(now: number): void {
    if (this.target.isTTY) this.target.write(`\r\x1b[2K${this.line(now)}`);
  }
}
