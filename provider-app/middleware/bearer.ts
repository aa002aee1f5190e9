import { HttpError } from '../errors';

// RFC 6750 §2.1 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Extracts the token from `Authorization: Bearer <token>`; 401 with an RFC 6750 challenge otherwise. */
export function parseBearer(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new HttpError(401, 'invalid_request', 'an access token is required (Authorization: Bearer <token>)', { challenge: false });
  }
  const match = BEARER.exec(authorization);
  if (!match) throw new HttpError(401, 'invalid_request', 'the Authorization header must be "Bearer <token>"');
  return match[1]!;
}
