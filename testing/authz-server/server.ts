import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import Provider, { type KoaContextLike } from 'oidc-provider';
import type { AuthzServerConfig } from './config';
import { subjectMatches } from './subject-dn';

export interface RunningAuthzServer {
  readonly issuer: string;
  readonly port: number;
  close(): Promise<void>;
}

function peerCertificate(ctx: KoaContextLike): X509Certificate | undefined {
  const socket = ctx.req.socket as TLSSocket;
  return socket.getPeerX509Certificate?.() ?? undefined;
}

function clientMetadata(config: AuthzServerConfig): Record<string, unknown>[] {
  return config.clients.map((client) => {
    const subjectDn = client.subjectDn ?? new X509Certificate(readFileSync(client.certFile!)).subject.split('\n').reverse().join(',');
    return {
      client_id: client.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: subjectDn,
      tls_client_certificate_bound_access_tokens: client.certificateBoundAccessTokens !== false,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ...(client.scope ? { scope: client.scope } : {}),
    };
  });
}

function providerConfiguration(config: AuthzServerConfig): Record<string, unknown> {
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
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
    jwks: { keys: [{ ...signingKey, kid: 'dev-signing', use: 'sig', alg: 'ES256' }] },
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
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectMatches(cert.subject, expected);
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
  const provider = new Provider(issuer, providerConfiguration(config));
  provider.on('server_error', (_ctx: unknown, error: unknown) => {
    process.stderr.write(`authz-server: server_error ${(error as Error)?.message ?? String(error)}\n`);
  });
  handler = provider.callback();
  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
