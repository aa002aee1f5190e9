import type { ServerResponse } from 'node:http';

/** The RFC 6750 error codes, plus the two this service adds for its own failures. */
export type ErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'not_found' | 'temporarily_unavailable' | 'server_error';

/**
 * A refusal the client is meant to see: status, RFC 6750 code and a short description.
 * Thrown (or passed to `next`) anywhere; `writeError` renders it.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly description: string,
    readonly extra: { readonly scope?: string; readonly retryAfterSeconds?: number; readonly challenge?: boolean } = {},
  ) {
    super(description);
    this.name = 'HttpError';
  }
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

/**
 * The one writer of error answers, for every path that has a response to write on: Express
 * (its res is a ServerResponse), the server's answer to an unparsable request. A small JSON
 * body with `Cache-Control: no-store` and, for 401/403, `WWW-Authenticate`.
 */
export function writeError(res: ServerResponse, error: HttpError): void {
  res.statusCode = error.status;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  if (error.status === 401 || error.status === 403) {
    const params = ['realm="provider"'];
    // RFC 6750 §3.1: a request with no authentication information gets a bare challenge.
    if (error.extra.challenge !== false) {
      params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
      if (error.extra.scope) params.push(`scope=${quoted(error.extra.scope)}`);
    }
    res.setHeader('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  }
  if (error.extra.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.extra.retryAfterSeconds));
  // Not Express's res.json: an error is not a cacheable representation, so no ETag.
  const body = JSON.stringify({ error: error.code, error_description: error.description, ...(error.extra.scope ? { scope: error.extra.scope } : {}) });
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  // Set, not left to Node: the access line reads the body size from this header.
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}
