import type { Response } from 'express';

/** The RFC 6750 error codes, plus the two this service adds for its own failures. */
export type ErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'not_found' | 'temporarily_unavailable' | 'server_error';

/**
 * A refusal the client is meant to see: status, RFC 6750 code and a short description.
 * Thrown (or passed to `next`) anywhere; the error middleware renders it.
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

/** Writes the small JSON error body with `Cache-Control: no-store` and, for 401/403, `WWW-Authenticate`. */
export function sendError(res: Response, error: HttpError, realm = 'provider'): void {
  res.status(error.status);
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
  if (error.status === 401 || error.status === 403) {
    const params = [`realm=${quoted(realm)}`];
    // RFC 6750 §3.1: a request with no authentication information gets a bare challenge.
    if (error.extra.challenge !== false) {
      params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
      if (error.extra.scope) params.push(`scope=${quoted(error.extra.scope)}`);
    }
    res.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  }
  if (error.extra.retryAfterSeconds !== undefined) res.set('Retry-After', String(error.extra.retryAfterSeconds));
  // res.end, not res.json: an error is not a cacheable representation, so no ETag.
  const body = JSON.stringify({ error: error.code, error_description: error.description, ...(error.extra.scope ? { scope: error.extra.scope } : {}) });
  res.set('Content-Type', 'application/json; charset=utf-8');
  // Set, not left to Node: the access line reads the body size from this header.
  res.set('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}
