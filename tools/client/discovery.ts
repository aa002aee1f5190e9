import { ClientError } from './errors';
import { httpErrorFrom } from './http-errors';
import { httpsRequest, readText } from './https-request';
import type { TlsIdentity } from './tls-identity';

/** The parts of the authorization server's metadata the consumer needs. */
export interface IssuerMetadata {
  readonly issuer: string;
  /** Token endpoint for mTLS clients: the RFC 8705 alias when published, else the plain one. */
  readonly tokenEndpoint: string;
}

/** RFC 8414 §3: `/.well-known/oauth-authorization-server` goes between the host and the issuer's path. */
export function rfc8414MetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

/**
 * The issuer's metadata: OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`),
 * or, where the issuer has none (404: an IB1 authorization server need only publish it),
 * RFC 8414's `/.well-known/oauth-authorization-server`.
 */
export async function discoverIssuer(issuer: string, tls: TlsIdentity, resolve?: Readonly<Record<string, string>>): Promise<IssuerMetadata> {
  let url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let res = await httpsRequest({ url, tls, resolve, headers: { accept: 'application/json' } });
  let text = await readText(res.body);
  if (res.status === 404) {
    url = rfc8414MetadataUrl(issuer);
    res = await httpsRequest({ url, tls, resolve, headers: { accept: 'application/json' } });
    text = await readText(res.body);
  }
  if (res.status !== 200) throw httpErrorFrom(res.status, url, res.headers, text, Boolean(tls.cert));
  let meta: {
    issuer?: unknown;
    token_endpoint?: unknown;
    mtls_endpoint_aliases?: { token_endpoint?: unknown };
  };
  try {
    meta = JSON.parse(text) as typeof meta;
  } catch {
    throw new ClientError(`Discovery at ${url} did not return JSON.`, 'Check the --issuer URL.');
  }
  // RFC 8414 §3.3: the metadata must be about the issuer we asked for
  if (typeof meta.issuer !== 'string' || meta.issuer.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
    throw new ClientError(`Discovery at ${url} names issuer ${String(meta.issuer)}, not ${issuer}.`, 'Use the issuer URL exactly as the server publishes it.');
  }
  const alias = meta.mtls_endpoint_aliases?.token_endpoint;
  const tokenEndpoint = typeof alias === 'string' ? alias : meta.token_endpoint;
  if (typeof tokenEndpoint !== 'string') {
    throw new ClientError(`Discovery at ${url} has no token_endpoint.`);
  }
  return { issuer: meta.issuer, tokenEndpoint };
}
