/**
 * Authorization server metadata for a configured issuer: RFC 8414 first (the location the
 * IB1 OAuth profile requires), then OpenID Connect Discovery (what oidc-provider and most
 * OIDC servers publish). The document is used only if it names the configured issuer
 * exactly (RFC 8414 §3.3), so a misconfigured or spoofed issuer cannot supply the keys.
 *
 * API
 * - `discoverIssuer(issuer, { fetchImpl?, timeoutMs })` → {@link IssuerMetadata}
 * - `metadataUrls(issuer)` → the two URLs, in the order they are tried
 * - `IssuerMetadataError` (an AuthorizationServerUnavailable: the app answers 503)
 */
import { AuthorizationServerUnavailable } from '../introspection';

export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly introspection_endpoint?: string;
  readonly token_endpoint?: string;
  /** RFC 8705 §5: endpoints to call with mutual TLS, when the server publishes them apart. */
  readonly mtls_endpoint_aliases?: { readonly introspection_endpoint?: string; readonly token_endpoint?: string };
  /** Where the document was found. */
  readonly metadataUrl: string;
}

export interface DiscoverOptions {
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
  /** For each of the (at most two) requests. */
  readonly timeoutMs: number;
}

/** Discovery failed or the document cannot be used; the message says which URL and why. */
export class IssuerMetadataError extends AuthorizationServerUnavailable {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerMetadataError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** RFC 8414 §2 wants https; plain http is allowed on loopback only, for tests and the dev sandbox. */
function requireUsableUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new IssuerMetadataError(`${what} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new IssuerMetadataError(`${what} ${JSON.stringify(value)} must use https`);
  }
  return url;
}

/**
 * RFC 8414 §3.1: `/.well-known/oauth-authorization-server` goes between host and path
 * (a terminating "/" of the path removed first); OIDC Discovery §4 appends
 * `/.well-known/openid-configuration` to the issuer, also without its terminating "/".
 */
export function metadataUrls(issuer: string): [rfc8414: string, oidc: string] {
  const url = requireUsableUrl(issuer, 'issuer');
  if (url.search || url.hash) throw new IssuerMetadataError(`issuer ${JSON.stringify(issuer)} must have no query or fragment (RFC 8414 §2)`);
  const path = url.pathname.replace(/\/+$/, '');
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
}

/** What one location answered: a JSON object, or "not here" (any status but 200). */
type Answer = { found: true; document: Record<string, unknown> } | { found: false; why: string };

async function fetchDocument(url: string, options: DiscoverOptions): Promise<Answer> {
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : (error as Error).message;
    throw new IssuerMetadataError(`issuer metadata at ${url}: ${reason}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { found: false, why: `${url} answered HTTP ${response.status}` };
  }
  let document: unknown;
  try {
    document = await response.json();
  } catch {
    throw new IssuerMetadataError(`issuer metadata at ${url} is not JSON`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new IssuerMetadataError(`issuer metadata at ${url} is not a JSON object`);
  }
  return { found: true, document: document as Record<string, unknown> };
}

function optionalUrl(document: Record<string, unknown>, name: string, at: string): string | undefined {
  const value = document[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new IssuerMetadataError(`issuer metadata at ${at}: ${name} is not a string`);
  requireUsableUrl(value, `issuer metadata at ${at}: ${name}`);
  return value;
}

function toMetadata(issuer: string, document: Record<string, unknown>, at: string): IssuerMetadata {
  if (document.issuer !== issuer) {
    throw new IssuerMetadataError(`issuer metadata at ${at} names issuer ${JSON.stringify(document.issuer)}, not the configured ${JSON.stringify(issuer)}`);
  }
  const jwksUri = optionalUrl(document, 'jwks_uri', at);
  if (jwksUri === undefined) throw new IssuerMetadataError(`issuer metadata at ${at} has no jwks_uri`);
  const introspection = optionalUrl(document, 'introspection_endpoint', at);
  const token = optionalUrl(document, 'token_endpoint', at);
  const rawAliases = document.mtls_endpoint_aliases;
  let aliases: IssuerMetadata['mtls_endpoint_aliases'];
  if (typeof rawAliases === 'object' && rawAliases !== null) {
    const record = rawAliases as Record<string, unknown>;
    const aliasIntrospection = optionalUrl(record, 'introspection_endpoint', `${at} mtls_endpoint_aliases`);
    const aliasToken = optionalUrl(record, 'token_endpoint', `${at} mtls_endpoint_aliases`);
    aliases = {
      ...(aliasIntrospection === undefined ? {} : { introspection_endpoint: aliasIntrospection }),
      ...(aliasToken === undefined ? {} : { token_endpoint: aliasToken }),
    };
  }
  return {
    issuer,
    jwks_uri: jwksUri,
    ...(introspection === undefined ? {} : { introspection_endpoint: introspection }),
    ...(token === undefined ? {} : { token_endpoint: token }),
    ...(aliases === undefined ? {} : { mtls_endpoint_aliases: aliases }),
    metadataUrl: at,
  };
}

/**
 * Fetches the issuer's metadata. The OIDC location is tried only when the RFC 8414 one
 * does not answer 200: a document there that is wrong (another issuer, no jwks_uri) is an
 * error, not a reason to look elsewhere, and so is a server that does not answer at all.
 */
export async function discoverIssuer(issuer: string, options: DiscoverOptions): Promise<IssuerMetadata> {
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const answer = await fetchDocument(url, options);
    if (answer.found) return toMetadata(issuer, answer.document, url);
    tried.push(answer.why);
  }
  throw new IssuerMetadataError(`no metadata for issuer ${JSON.stringify(issuer)}: ${tried.join('; ')}`);
}
