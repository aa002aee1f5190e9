import type { IncomingHttpHeaders } from 'node:http';
import type { DatasetCache } from './dataset-cache';
import { DATASET_NAME } from './datasets';
import type { Introspector } from './introspection';
import type { ManifestStore } from './manifest';
import { checkPolicy, checkToken, type AuthContext } from './middleware/auth';
import { parseBearer } from './middleware/bearer';
import type { ClientCertificateCache } from './middleware/client-cert-cache';

export interface CachedDecisionDeps {
  readonly introspector: Introspector;
  readonly certificates: ClientCertificateCache;
  readonly datasets: DatasetCache;
  readonly manifest: ManifestStore;
  readonly clientCertHeader: string;
  readonly clockSkewSeconds: number;
  readonly now: () => number;
}

/** An authorised dataset read, decided from cached data only. */
export interface AllowedRead {
  /** The dataset name (`meters` for `/meters` and `/meters.csv`). */
  readonly name: string;
  /** The path as requested (`/meters.csv`). */
  readonly path: string;
  readonly auth: AuthContext;
  /** The token's `exp` (seconds since the epoch). */
  readonly tokenExpiresAt: number;
  /** The client certificate's notAfter (ms since the epoch). */
  readonly certificateExpiresAt: number;
}

/** An allowed read, or undefined to leave the request to the full path. */
export type CachedDecision = (path: string, headers: IncomingHttpHeaders) => AllowedRead | undefined;

// `/<name>` or `/<name>.csv`, nothing else: no query string, no escapes, no second segment.
const PLAIN_PATH = /^\/([A-Za-z0-9][A-Za-z0-9_.-]*)$/;
// Express routes these before `/:dataset`; they are never a dataset here.
const OTHER_ROUTES = new Set(['ping', 'datasets']);

/**
 * Decides a `GET /<name>` from what is already cached — the introspection result, the parsed
 * certificate, the dataset policy and the dataset's resolution — with the very checks the
 * Express path runs (`checkToken`, `checkPolicy`, the certificate's validity). It answers only
 * "allowed"; anything else (a refusal, a cache miss, a query string, another route) is
 * undefined, and the caller leaves the request to the full path, which decides and explains.
 */
export function createCachedDecision(deps: CachedDecisionDeps): CachedDecision {
  const peek = deps.introspector.peek?.bind(deps.introspector);
  if (!peek) return () => undefined;
  // Node lower-cases incoming header names; Express's req.get() is case-insensitive.
  const certHeader = deps.clientCertHeader.toLowerCase();
  return (path, headers) => {
    const match = PLAIN_PATH.exec(path);
    if (!match) return undefined;
    const segment = match[1]!;
    const name = segment.endsWith('.csv') ? segment.slice(0, -'.csv'.length) : segment;
    if (!DATASET_NAME.test(name) || OTHER_ROUTES.has(segment.toLowerCase()) || OTHER_ROUTES.has(name.toLowerCase())) return undefined;
    const header = headers[certHeader];
    const authorization = headers.authorization;
    if (typeof header !== 'string' || typeof authorization !== 'string') return undefined;
    try {
      const cert = deps.certificates.parse(header);
      const nowMs = deps.now();
      if (cert.notAfter.getTime() < nowMs || cert.notBefore.getTime() > nowMs) return undefined;
      const result = peek(parseBearer(authorization));
      if (!result) return undefined;
      checkToken(result, cert.thumbprint, Math.floor(nowMs / 1000), deps.clockSkewSeconds);
      const auth: AuthContext = {
        clientId: result.client_id,
        certSubject: cert.subject,
        scopes: new Set((result.scope ?? '').split(' ').filter(Boolean).map((s) => s.toLowerCase())),
      };
      const policy = deps.manifest.peekPolicy(name);
      if (!policy) return undefined;
      checkPolicy(auth, policy);
      if (!deps.datasets.peek(name)) return undefined;
      // checkToken has refused a token without a numeric exp.
      return { name, path, auth, tokenExpiresAt: result.exp as number, certificateExpiresAt: cert.notAfter.getTime() };
    } catch {
      return undefined;
    }
  };
}
