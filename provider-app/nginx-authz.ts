import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Caller, DecisionPipeline } from './decision/pipeline';
import { interactionIdFor } from './middleware/fapi-headers';

/**
 * nginx's `auth_request` subrequest for a dataset read. nginx's mTLS site sends it to this
 * path (an `internal` location, so no client can), with the consumer's request in
 * `X-Original-URI` and its certificate and Authorization header as usual.
 */
export const NGINX_AUTHZ_PATH = '/.provider/authz';

/** The headers of an allowed answer, read by the site's `auth_request_set`. */
export const AUTHZ_HEADERS = {
  file: 'X-Provider-Dataset-File',
  clientId: 'X-Provider-Client-Id',
  tokenDigest: 'X-Provider-Token-Digest',
} as const;

export interface NginxAuthzDeps {
  readonly logger: Logger;
  readonly pipeline: DecisionPipeline;
  /** False when the app streams files itself: nginx must then pass every read to the app. */
  readonly nginxSendsFiles: boolean;
  /** Longest nginx may reuse an allowed answer (X-Accel-Expires); 0: never. */
  readonly cacheSeconds: number;
  readonly now: () => number;
}

/**
 * base64url(MD5(Authorization header)), as nginx's `secure_link_md5 $http_authorization`
 * computes it. nginx keys its decision cache by certificate and path only, so that no token
 * is ever written into a cache file; before it reuses an answer it checks that the request's
 * Authorization header has this digest. MD5 is enough here: finding another token with the
 * same digest is a second preimage, and the request must come with the same certificate.
 */
export function authorizationDigest(authorization: string): string {
  return createHash('md5').update(Buffer.from(authorization, 'latin1')).digest('base64url');
}

/**
 * How long nginx may reuse the answer: at most `cacheSeconds`, and never up to the second
 * the token or the certificate expires (the cache counts whole seconds).
 */
export function reuseSeconds(caller: Pick<Caller, 'tokenExpiresAt' | 'certificateExpiresAt'>, cacheSeconds: number, nowMs: number): number {
  const tokenLeft = caller.tokenExpiresAt - Math.ceil(nowMs / 1000);
  const certificateLeft = Math.floor((caller.certificateExpiresAt - nowMs) / 1000);
  return Math.max(0, Math.min(cacheSeconds, tokenLeft - 1, certificateLeft - 1));
}

/**
 * Answers nginx's authorization subrequest from cached data only (never a call to the
 * authorization server): 204 with the dataset's file name, the caller's client id and the
 * token digest when the pipeline's cache-only mode allows the read, else 403 — "ask the app" — and
 * nginx passes the consumer's request itself to the app, whose full path decides, explains
 * the refusal (RFC 6750) and fills the caches. Returns false for any other request.
 */
export function createNginxAuthz(deps: NginxAuthzDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.url !== NGINX_AUTHZ_PATH) return false;
    const original = req.headers['x-original-uri'];
    const authorization = req.headers.authorization;
    // No Authorization header at all is left to the pipeline: only an open dataset (ib1) is read without one.
    const asked = deps.nginxSendsFiles && (req.method === 'GET' || req.method === 'HEAD') && typeof original === 'string' && (typeof authorization === 'string' || authorization === undefined);
    const allowed = asked ? deps.pipeline.decideFromCache(original, req.headers) : undefined;
    // nginx's $http_authorization is empty without the header: the digest of "" then matches.
    const digest = allowed ? md5OrUndefined(authorization ?? '') : undefined;
    if (!allowed || digest === undefined) {
      res.statusCode = 403;
      res.setHeader('X-Accel-Expires', '0');
      res.setHeader('Cache-Control', 'no-store');
      res.end();
      return true;
    }
    const { caller, name } = allowed;
    const seconds = reuseSeconds(caller, deps.cacheSeconds, deps.now());
    res.statusCode = 204;
    res.setHeader(AUTHZ_HEADERS.file, `${name}.csv`);
    res.setHeader(AUTHZ_HEADERS.clientId, caller.clientId ?? '');
    res.setHeader(AUTHZ_HEADERS.tokenDigest, digest);
    res.setHeader('X-Accel-Expires', String(seconds));
    res.end();
    // One line per decision; nginx's access log has one per request, including reuses.
    deps.logger.info(
      {
        interactionId: interactionIdFor(req.headers['x-fapi-interaction-id']),
        access: true,
        method: 'GET',
        path: original,
        status: 204,
        // nginx sends the file (and reuses this answer for reuseSeconds); its access log has each request.
        via: 'nginx auth_request',
        reuseSeconds: seconds,
        clientId: caller.clientId,
        certSubject: caller.certSubject || undefined,
        dataset: name,
        roles: caller.roles,
        member: caller.memberUrl,
        open: allowed.open,
      },
      'request',
    );
    return true;
  };
}

/** The digest, or undefined where MD5 is unavailable (an OpenSSL in FIPS mode): nginx then cannot check reuse, so every read goes to the app. */
function md5OrUndefined(authorization: string): string | undefined {
  try {
    return authorizationDigest(authorization);
  } catch {
    return undefined;
  }
}
