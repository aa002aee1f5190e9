import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DatasetCache } from './dataset-cache';
import { accelRedirectTarget, CSV_CONTENT_TYPE, DATASET_NAME } from './datasets';
import type { Introspector } from './introspection';
import type { ManifestStore } from './manifest';
import { logAccessWhenDone } from './middleware/access-log';
import { checkPolicy, checkToken, type AuthContext } from './middleware/auth';
import { parseBearer } from './middleware/bearer';
import type { ClientCertificateCache } from './middleware/client-cert-cache';
import { interactionIdFor } from './middleware/fapi-headers';

export interface FastPathDeps {
  readonly logger: Logger;
  readonly introspector: Introspector;
  readonly certificates: ClientCertificateCache;
  readonly datasets: DatasetCache;
  readonly manifest: ManifestStore;
  readonly clientCertHeader: string;
  readonly accelRedirectPrefix: string;
  readonly clockSkewSeconds: number;
  readonly now: () => number;
}

// `/<name>` or `/<name>.csv`, nothing else: no query string, no escapes, no second segment.
const PLAIN_PATH = /^\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/;
// Express routes these before `/:dataset`; they are never a dataset here.
const OTHER_ROUTES = new Set(['ping', 'datasets']);

/**
 * Answers the one request that dominates traffic — an authorised `GET /<name>` in
 * X-Accel-Redirect mode whose token, policy and dataset are all already cached — without
 * Express, whose per-request overhead was about two thirds of the app's CPU. It runs the
 * same checks (`checkToken`, `checkPolicy`, the certificate's validity) on the same cached
 * data the Express path uses and answers only when every one passes. Anything else — a
 * refusal, a cache miss, a query string, another method or route — returns false having
 * written nothing, and Express handles the request from the start, as if this did not exist.
 */
export function createFastPath(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const peek = deps.introspector.peek?.bind(deps.introspector);
  if (!peek) return () => false;
  // Node lower-cases incoming header names; Express's req.get() is case-insensitive.
  const certHeader = deps.clientCertHeader.toLowerCase();
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const match = PLAIN_PATH.exec(req.url ?? '');
    if (!match) return false;
    const segment = match[1]!;
    const name = segment.endsWith('.csv') ? segment.slice(0, -'.csv'.length) : segment;
    if (!DATASET_NAME.test(name) || OTHER_ROUTES.has(segment.toLowerCase()) || OTHER_ROUTES.has(name.toLowerCase())) return false;
    const header = req.headers[certHeader];
    const authorization = req.headers.authorization;
    if (typeof header !== 'string' || typeof authorization !== 'string') return false;
    let auth: AuthContext;
    try {
      const cert = deps.certificates.parse(header);
      const nowMs = deps.now();
      if (cert.notAfter.getTime() < nowMs || cert.notBefore.getTime() > nowMs) return false;
      const result = peek(parseBearer(authorization));
      if (!result) return false;
      checkToken(result, cert.thumbprint, Math.floor(nowMs / 1000), deps.clockSkewSeconds);
      auth = { clientId: result.client_id, certSubject: cert.subject, scopes: new Set((result.scope ?? '').split(' ').filter(Boolean).map((s) => s.toLowerCase())) };
      const policy = deps.manifest.peekPolicy(name);
      if (!policy) return false;
      checkPolicy(auth, policy);
    } catch {
      return false;
    }
    if (!deps.datasets.peek(name)) return false;

    const interactionId = interactionIdFor(req.headers['x-fapi-interaction-id']);
    logAccessWhenDone(deps.logger, req, res, interactionId, `/${segment}`, () => ({ clientId: auth.clientId, certSubject: auth.certSubject, dataset: name }));
    res.statusCode = 200;
    res.setHeader('x-fapi-interaction-id', interactionId);
    res.setHeader('Content-Type', CSV_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('X-Accel-Redirect', accelRedirectTarget(deps.accelRedirectPrefix, name));
    res.end();
    return true;
  };
}
