/**
 * Downloads one CRL, bounded: http(s) only, a timeout per attempt, a few retries with
 * a short backoff, and a size cap read as the body streams in — a refresh on a timer
 * must end, whatever the publisher does.
 */

export interface FetchCrlOptions {
  /** Per attempt, covering the response headers and the whole body. */
  readonly timeoutMs: number;
  /** Attempts after the first one, for failures that may pass (network, timeout, 5xx, 408, 429). */
  readonly retries: number;
  /** @default 20 MiB */
  readonly maxBytes?: number;
  /** Waits before retry 1, 2, …; the last repeats. @default [1000, 2000] */
  readonly backoffMs?: readonly number[];
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
}

export type FetchCrlResult = { readonly bytes: Uint8Array } | { readonly error: string };

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_BACKOFF_MS = [1000, 2000];

/** An attempt's failure; `retry` says whether trying again may help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

export async function fetchCrl(url: string, options: FetchCrlOptions): Promise<FetchCrlResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: `"${url}" is not a URL` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { error: `unsupported URL "${url}" (only http: and https:)` };
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const attempts = options.retries + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return { bytes: await attemptFetch(url, options) };
    } catch (error) {
      const failure = error instanceof AttemptError ? error : new AttemptError(describe(error), true);
      if (!failure.retry || attempt >= attempts) {
        return { error: attempt > 1 ? `${failure.message} (after ${attempt} attempts)` : failure.message };
      }
      await sleep(backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 0);
    }
  }
}

async function attemptFetch(url: string, options: FetchCrlOptions): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await (options.fetchImpl ?? fetch)(url, { signal, headers: { accept: 'application/pkix-crl, application/x-pkcs7-crl, */*' } });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new AttemptError(`HTTP ${response.status}`, response.status >= 500 || response.status === 408 || response.status === 429);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new AttemptError(`body of ${declared} bytes is over the ${maxBytes}-byte limit`, false);
    }
    return await readCapped(response, maxBytes);
  } catch (error) {
    if (signal.aborted) throw new AttemptError(`timed out after ${options.timeoutMs} ms`, true);
    throw error;
  }
}

/** The body, refusing it as soon as it passes `maxBytes` (Content-Length may be absent or wrong). */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new AttemptError(`body is over the ${maxBytes}-byte limit`, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a TLS
 * error). Read by shape, not `instanceof`: fetch's errors may come from another realm.
 */
function describe(error: unknown): string {
  const { message, cause } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  if (typeof message !== 'string') return String(error);
  if (typeof cause?.message !== 'string') return message;
  return `${message}: ${cause.code !== undefined ? `${String(cause.code)} ` : ''}${cause.message}`.replace(/\s+/g, ' ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
