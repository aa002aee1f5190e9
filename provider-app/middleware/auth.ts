import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../errors';
import { AuthorizationServerUnavailable, type IntrospectionResult, type Introspector } from '../introspection';
import { parseBearer } from './bearer';
import { ClientCertificateCache } from './client-cert-cache';

/** Who is calling, once authenticated; stored in `res.locals.auth`. */
export interface AuthContext {
  readonly clientId: string | undefined;
  readonly certSubject: string;
  /** Lower-cased scopes of the token. */
  readonly scopes: ReadonlySet<string>;
}

/** What one resource demands beyond a valid bound token. */
export interface AccessPolicy {
  /** Every one of these scopes (case-insensitive). */
  readonly scopes: readonly string[];
  /** When present, only these client ids. */
  readonly clientIds?: readonly string[];
}

export interface AuthOptions {
  readonly introspector: Introspector;
  readonly clientCertHeader: string;
  readonly clockSkewSeconds: number;
  readonly retryAfterSeconds: number;
  readonly now?: () => number;
  /** Parsed client certificates by header value. @default a new cache of 1000 entries */
  readonly certificates?: ClientCertificateCache;
}

/** RFC 8705 + RFC 7662 checks on an introspection result; throws a 401 HttpError on the first failure. */
export function checkToken(result: IntrospectionResult, certThumbprint: string, nowSeconds: number, skewSeconds: number): void {
  const invalid = (why: string) => new HttpError(401, 'invalid_token', why);
  if (result.active !== true) throw invalid('the access token is not active');
  // A refresh token (or any other kind) must not work as an access token.
  if (typeof result.token_type === 'string' && result.token_type.toLowerCase() !== 'bearer') throw invalid('the token is not a bearer access token');
  if (typeof result.exp !== 'number') throw invalid('the access token has no expiry');
  if (result.exp <= nowSeconds - skewSeconds) throw invalid('the access token has expired');
  if (typeof result.iat === 'number' && result.iat > nowSeconds + skewSeconds) throw invalid('the access token was issued in the future');
  if (typeof result.nbf === 'number' && result.nbf > nowSeconds + skewSeconds) throw invalid('the access token is not valid yet');
  const bound = result.cnf?.['x5t#S256'];
  // FAPI: only sender-constrained tokens. A token without a certificate binding is refused outright.
  if (typeof bound !== 'string' || bound === '') throw invalid('the access token is not certificate-bound (no cnf.x5t#S256)');
  if (bound !== certThumbprint) throw invalid('the access token is bound to a different client certificate');
}

/**
 * 403 unless the caller meets the policy. Fails closed: a policy that requires no scope
 * (no `scope` configured and no scopes in the dataset's manifest entry) admits nobody, as
 * any active bound token from any client of the authorization server would otherwise do.
 */
export function checkPolicy(auth: AuthContext, policy: AccessPolicy): void {
  if (policy.scopes.length === 0) {
    throw new HttpError(403, 'insufficient_scope', 'the provider has no scope configured for this dataset, so it is not served');
  }
  if (policy.clientIds && (auth.clientId === undefined || !policy.clientIds.includes(auth.clientId))) {
    throw new HttpError(403, 'insufficient_scope', 'this client may not read this resource');
  }
  const missing = policy.scopes.filter((scope) => !auth.scopes.has(scope.toLowerCase()));
  if (missing.length > 0) {
    throw new HttpError(403, 'insufficient_scope', `the access token lacks the required scope: ${missing.join(' ')}`, { scope: policy.scopes.join(' ') });
  }
}

/**
 * Authenticates the request: client certificate from nginx's header, bearer token,
 * introspection, binding. Sets `res.locals.auth`; per-resource policy is checked later.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  const now = options.now ?? Date.now;
  const certificates = options.certificates ?? new ClientCertificateCache();
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      // FAPI 1.0 §6.2.1: access tokens are never accepted in the query string.
      if (req.query && Object.prototype.hasOwnProperty.call(req.query, 'access_token')) {
        throw new HttpError(400, 'invalid_request', 'access tokens are not accepted in the query string; use the Authorization header');
      }
      const cert = certificates.parse(req.get(options.clientCertHeader));
      res.locals.certSubject = cert.subject;
      const nowMs = now();
      if (cert.notAfter.getTime() < nowMs || cert.notBefore.getTime() > nowMs) {
        throw new HttpError(401, 'invalid_token', 'the client certificate is outside its validity period');
      }
      const token = parseBearer(req.get('authorization'));
      let result: IntrospectionResult;
      try {
        result = await options.introspector.introspect(token);
      } catch (error) {
        if (error instanceof AuthorizationServerUnavailable) {
          res.locals.log?.warn({ reason: error.message }, 'authorization server unavailable');
          throw new HttpError(503, 'temporarily_unavailable', 'the authorization server is unavailable; retry later', {
            retryAfterSeconds: options.retryAfterSeconds,
          });
        }
        throw error;
      }
      if (typeof result.client_id === 'string') res.locals.clientId = result.client_id;
      checkToken(result, cert.thumbprint, Math.floor(now() / 1000), options.clockSkewSeconds);
      const auth: AuthContext = {
        clientId: result.client_id,
        certSubject: cert.subject,
        scopes: new Set((result.scope ?? '').split(' ').filter(Boolean).map((s) => s.toLowerCase())),
      };
      res.locals.auth = auth;
      next();
    } catch (error) {
      next(error);
    }
  };
}
