import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import Provider, { type KoaContextLike } from 'oidc-provider';
import { readIb1Identity } from '../../provider-app/identity/ib1-certificate';
import type { AuthzServerConfig } from './config';
import { SigningKeys } from './signing-keys';
import { subjectMatches } from './subject-dn';

export interface RunningAuthzServer {
  readonly issuer: string;
  readonly port: number;
  /** A new signing key signs every JWT from now on; `jwks_uri` does not list it yet. Returns its kid. */
  rotateSigningKey(): string;
  /** `jwks_uri` lists every key, the rotated-in one too. */
  publishSigningKeys(): void;
  close(): Promise<void>;
}

/** RFC 8414 §3: the metadata of an issuer without a path, answered like OIDC discovery (a superset). */
const RFC8414_METADATA = '/.well-known/oauth-authorization-server';
const OIDC_METADATA = '/.well-known/openid-configuration';
/** oidc-provider's default jwks route: answered here, from the published keys only. */
const JWKS_PATH = '/jwks';

/** IB1: the certificate's one URI SAN (which IB1 also wants as its CN) is the registered Directory URL. */
function sanUriMatches(cert: X509Certificate, expected: string): boolean {
  try {
    return readIb1Identity(cert.toString()).directoryUrl === expected;
  } catch {
    return false;
  }
}

function peerCertificate(ctx: KoaContextLike): X509Certificate | undefined {
  const socket = ctx.req.socket as TLSSocket;
  return socket.getPeerX509Certificate?.() ?? undefined;
}

function clientMetadata(config: AuthzServerConfig): Record<string, unknown>[] {
  return config.clients.map((client) => {
    const certificateMatch = client.sanUri !== undefined
      ? { tls_client_auth_san_uri: client.sanUri }
      : { tls_client_auth_subject_dn: client.subjectDn ?? new X509Certificate(readFileSync(client.certFile!)).subject.split('\n').reverse().join(',') };
    return {
      client_id: client.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      ...certificateMatch,
      tls_client_certificate_bound_access_tokens: client.certificateBoundAccessTokens !== false,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ...(client.scope ? { scope: client.scope } : {}),
    };
  });
}

/**
 * JWT access tokens (RFC 9068): oidc-provider issues them for a resource server only, so
 * every token is for one (the client's `resource`, else `defaultResource`: the `aud`), signed
 * by the current key (its kid, so a rotated-in key signs at once).
 */
function resourceIndicators(config: AuthzServerConfig, issuer: string, keys: SigningKeys): Record<string, unknown> {
  if (config.accessTokenFormat !== 'jwt') return { enabled: false };
  return {
    enabled: true,
    defaultResource: () => config.defaultResource ?? issuer,
    useGrantedResource: () => true,
    getResourceServerInfo: (_ctx: unknown, resource: string) => ({
      scope: (config.scopes ?? []).join(' '),
      audience: resource,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256', kid: keys.signingKid } },
    }),
  };
}

function providerConfiguration(config: AuthzServerConfig, issuer: string, keys: SigningKeys): Record<string, unknown> {
  return {
    clients: clientMetadata(config),
    scopes: ['openid', ...(config.scopes ?? [])],
    clientAuthMethods: ['tls_client_auth'],
    clientDefaults: {
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['client_credentials'],
      response_types: [],
      // Matches the one signing key below; unused by client_credentials but checked by the client schema.
      id_token_signed_response_alg: 'ES256',
    },
    jwks: keys.keystore(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      ClientCredentials: (_ctx: unknown, _token: unknown, client: { clientId: string }) =>
        config.clients.find((c) => c.clientId === client.clientId)?.accessTokenTtlSeconds ?? config.accessTokenTtlSeconds ?? 600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: resourceIndicators(config, issuer, keys),
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        getCertificate: (ctx: KoaContextLike) => peerCertificate(ctx),
        // The TLS layer already checked the chain against `clientCa` (requestCert with
        // rejectUnauthorized off, so discovery works without a certificate).
        certificateAuthorized: (ctx: KoaContextLike) => (ctx.req.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx: KoaContextLike, property: string, expected: string) => {
          const cert = peerCertificate(ctx);
          if (cert === undefined) return false;
          if (property === 'tls_client_auth_subject_dn') return subjectMatches(cert.subject, expected);
          if (property === 'tls_client_auth_san_uri') return sanUriMatches(cert, expected);
          return false;
        },
      },
    },
  };
}

/** Starts oidc-provider over HTTPS; resolves once it listens. */
export async function runAuthzServer(config: AuthzServerConfig): Promise<RunningAuthzServer> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer(
    {
      cert: readFileSync(config.tlsCert),
      key: readFileSync(config.tlsKey),
      ca: readFileSync(config.clientCa),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      if (handler) handler(req, res);
      else {
        res.statusCode = 503;
        res.end();
      }
    },
  );
  const host = config.host ?? '127.0.0.1';
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, host, () => resolvePromise());
  });
  const port = (server.address() as { port: number }).port;
  const issuer = config.issuer ?? `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const keys = new SigningKeys();
  // oidc-provider's keystore is fixed at construction: a rotation builds a new instance
  // (clients and settings are the same; tokens live in its process-wide memory adapter).
  const build = (): ((req: IncomingMessage, res: ServerResponse) => void) => {
    const provider = new Provider(issuer, providerConfiguration(config, issuer, keys));
    provider.on('server_error', (_ctx: unknown, error: unknown) => {
      process.stderr.write(`authz-server: server_error ${(error as Error)?.message ?? String(error)}\n`);
    });
    const callback = provider.callback();
    return (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === JWKS_PATH) {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'no-store' }).end(JSON.stringify(keys.publicJwks()));
        return;
      }
      if (path === RFC8414_METADATA) req.url = OIDC_METADATA;
      callback(req, res);
    };
  };
  handler = build();
  return {
    issuer,
    port,
    rotateSigningKey: () => {
      const kid = keys.add({ published: false });
      handler = build();
      return kid;
    },
    publishSigningKeys: () => keys.publishAll(),
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
