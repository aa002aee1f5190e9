/**
 * Steady background traffic through the replica's nginx while an operation
 * (reload, worker kill, renewal, data swap) happens; every request is checked
 * and every failure recorded. Each request opens its own mTLS connection, so a
 * failure cannot hide behind a client retry on a stale keep-alive connection.
 */
import { mtlsRequest } from './mtls-request';
import { sleep } from '../../lib/child-process';

export interface TrafficOptions {
  readonly port: number;
  readonly servername: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly token: string;
  readonly path: string;
  /** Bodies accepted as correct (old and new content during a data swap). */
  readonly acceptedBodies: readonly Buffer[];
  /** Parallel request loops. @default 4 */
  readonly concurrency?: number;
  /** Safety bound: loops stop after this long even if stop() is never called. @default 120000 */
  readonly maxDurationMs?: number;
}

export interface TrafficResult {
  readonly ok: number;
  readonly failed: number;
  /** The first few failures, described. */
  readonly failures: readonly string[];
  /** How many responses carried each accepted body (index into acceptedBodies). */
  readonly bodies: readonly number[];
  /** When each failed request ended (ms since the epoch): a failover's window is read from them. */
  readonly failedAt: readonly number[];
}

export class Traffic {
  private running = false;
  private loops: Promise<void>[] = [];
  private ok = 0;
  private failures: string[] = [];
  private failed = 0;
  private readonly failedAt: number[] = [];
  private readonly bodies: number[];

  constructor(private readonly options: TrafficOptions) {
    this.bodies = options.acceptedBodies.map(() => 0);
  }

  start(): this {
    this.running = true;
    const deadline = Date.now() + (this.options.maxDurationMs ?? 120000);
    for (let i = 0; i < (this.options.concurrency ?? 4); i += 1) this.loops.push(this.loop(deadline));
    return this;
  }

  /** Waits until at least `count` requests succeeded (traffic is really flowing). */
  async warm(count = 20, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ok < count && Date.now() < deadline) await sleep(20);
    if (this.ok < count) throw new Error(`traffic did not warm up: ${this.ok} ok, failures: ${this.failures.join('; ')}`);
  }

  async stop(): Promise<TrafficResult> {
    this.running = false;
    await Promise.all(this.loops);
    return { ok: this.ok, failed: this.failed, failures: this.failures, bodies: this.bodies, failedAt: this.failedAt };
  }

  private async loop(deadline: number): Promise<void> {
    const { options } = this;
    while (this.running && Date.now() < deadline) {
      const response = await mtlsRequest({
        port: options.port,
        path: options.path,
        ca: options.ca,
        servername: options.servername,
        cert: options.cert,
        key: options.key,
        headers: { Authorization: `Bearer ${options.token}` },
      });
      const index = response.ok && response.status === 200 ? options.acceptedBodies.findIndex((body) => body.equals(response.body)) : -1;
      if (index >= 0) {
        this.ok += 1;
        this.bodies[index] += 1;
      } else {
        this.failed += 1;
        this.failedAt.push(Date.now());
        if (this.failures.length < 10) {
          this.failures.push(response.ok ? `HTTP ${response.status}: ${response.body.subarray(0, 200).toString()}` : response.error);
        }
      }
    }
  }
}
