/**
 * Closed-loop HTTP load over keep-alive mTLS connections (undici Pool): N
 * requests in flight for a fixed time, every response checked for status and
 * size, latency recorded per request.
 */
import { Pool } from 'undici';

export interface Tls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly servername: string;
}

export interface LoadOptions {
  readonly origin: string;
  readonly path: string;
  readonly tls: Tls;
  readonly headers?: Record<string, string>;
  readonly expectedBytes: number;
  readonly connections: number;
  readonly durationMs: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, {
    connections: options.connections,
    connect: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, servername: options.tls.servername },
  });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const { statusCode, body } = await pool.request({ path: options.path, method: 'GET', headers: options.headers });
        const bytes = (await body.arrayBuffer()).byteLength;
        if (statusCode !== 200 || bytes !== options.expectedBytes) errors += 1;
        else latencies.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN);
  return { requests: latencies.length, errors, requestsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

export interface DownloadResult {
  readonly megabytesPerSecond: number;
  readonly bytes: number;
  readonly errors: number;
}

/** Downloads `path` `times` times, one after the other on one keep-alive connection. */
export async function measureDownload(options: Omit<LoadOptions, 'connections' | 'durationMs'> & { times: number }): Promise<DownloadResult> {
  const pool = new Pool(options.origin, {
    connections: 1,
    bodyTimeout: 120000,
    connect: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, servername: options.tls.servername },
  });
  let bytes = 0;
  let errors = 0;
  const started = performance.now();
  for (let i = 0; i < options.times; i += 1) {
    const { statusCode, body } = await pool.request({ path: options.path, method: 'GET', headers: options.headers });
    let received = 0;
    for await (const chunk of body) received += (chunk as Buffer).length;
    if (statusCode !== 200 || received !== options.expectedBytes) errors += 1;
    bytes += received;
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { megabytesPerSecond: bytes / 1e6 / seconds, bytes, errors };
}
