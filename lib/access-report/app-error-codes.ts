/**
 * The RFC 6750 code of an app refusal, from its status and description. The app's access
 * line carries the description (`error`) but not the code; every status the app answers
 * with has one code, except 401, where two descriptions mean `invalid_request` (no or
 * a malformed Authorization header) and every other one `invalid_token`.
 * app-error-codes.test.ts reads every `new HttpError(...)` in provider-app/ and fails when
 * this drifts from them. A line that carries `errorCode` itself is taken as it is.
 */
import type { ErrorCode } from '../../provider-app/errors';

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  403: 'insufficient_scope',
  404: 'not_found',
  408: 'invalid_request',
  412: 'invalid_request',
  416: 'invalid_request',
  431: 'invalid_request',
  500: 'server_error',
  503: 'temporarily_unavailable',
};

/** The 401 descriptions that are `invalid_request` (provider-app/middleware/bearer.ts). */
export const INVALID_REQUEST_401: ReadonlySet<string> = new Set(['an access token is required (Authorization: Bearer <token>)', 'the Authorization header must be "Bearer <token>"']);

/** The code the app answered `status` with, or undefined when the status alone cannot tell (a 401 without its description). */
export function appErrorCode(status: number, description: string | undefined): ErrorCode | undefined {
  if (status === 401) return description === undefined ? undefined : INVALID_REQUEST_401.has(description) ? 'invalid_request' : 'invalid_token';
  return BY_STATUS[status];
}
