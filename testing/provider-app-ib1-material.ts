/**
 * Real material for the ib1 tests: IB1 client certificates (testing/pki/ib1.ts, ECDSA),
 * an authorization server's metadata and JWKS served over real HTTPS on 127.0.0.1 (with a
 * CA of the RSA test PKI, trusted through `agentFetch`), and RFC 9068 access tokens signed
 * by jose with keys generated at run time. The server counts what it is asked for.
 */
import { once } from 'node:events';
import { Agent } from 'node:https';
import { createServer, type Server } from 'node:https';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createIntermediateCa, createRootCa, issueServerCert } from './pki';
import { createIb1Pki, issueIb1Client, type Ib1Pki } from './pki/ib1';
import type { IssuedCertificate } from './pki';
import { agentFetch } from '../provider-app/tokens/agent-fetch';

export const ROLE_REPORTER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
export const ROLE_OTHER = 'https://registry.core.trust.ib1.org/scheme/electricity/role/other';
export const LICENCE = 'https://registry.core.trust.ib1.org/scheme/electricity/license/voltage-reporting/1.4';
export const MEMBER = 'https://directory.core.trust.ib1.org/member/827252';

export interface Ib1Clients {
  readonly pki: Ib1Pki;
  /** Holds ROLE_REPORTER. */
  readonly reporter: IssuedCertificate & { readonly directoryUrl: string };
  /** Holds ROLE_OTHER only. */
  readonly outsider: IssuedCertificate & { readonly directoryUrl: string };
  /** An IB1-shaped certificate with an RSA key (to be refused). */
  readonly rsa: IssuedCertificate & { readonly directoryUrl: string };
}

export async function ib1Clients(): Promise<Ib1Clients> {
  const pki = await createIb1Pki();
  const make = async (id: string, roles: string[], keyAlgorithm?: 'RSA') => {
    const directoryUrl = `https://directory.core.trust.ib1.org/application/${id}`;
    return {
      ...(await issueIb1Client(pki.issuer, {
        directoryUrl,
        memberUrl: MEMBER,
        roles,
        ...(keyAlgorithm ? { keyAlgorithm } : {}),
      })),
      directoryUrl,
    };
  };
  return {
    pki,
    reporter: await make('reporter', [ROLE_REPORTER]),
    outsider: await make('outsider', [ROLE_OTHER]),
    rsa: await make('rsa', [ROLE_REPORTER], 'RSA'),
  };
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256' | 'PS256' | 'RS256';
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: SigningKey['alg'] = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return {
    kid,
    alg,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
  };
}

/** An HTTPS issuer on 127.0.0.1: RFC 8414 metadata at /.well-known/oauth-authorization-server/<path>, JWKS at /jwks. */
export interface TestIssuer {
  readonly issuer: string;
  /** fetch trusting the issuer's CA, as the app's agent does with `tlsCa`. */
  readonly fetchImpl: typeof fetch;
  /** What /jwks serves; 'error' answers 500. */
  published: JWK[] | 'error';
  /** Metadata answers 503 while true. */
  metadataDown: boolean;
  readonly requests: { metadata: number; jwks: number };
  sign(claims: JWTPayload, key: SigningKey, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(keys: readonly SigningKey[]): Promise<TestIssuer> {
  const root = createRootCa({ subject: { commonName: 'Issuer Test Root' } });
  const ca = createIntermediateCa(root, {
    subject: { commonName: 'Issuer Test Issuing' },
  });
  const tls = issueServerCert(ca, {
    commonName: 'localhost',
    ipAddresses: ['127.0.0.1'],
  });
  let origin = '';
  const state: TestIssuer = {
    issuer: '',
    fetchImpl: agentFetch(new Agent({ ca: root.certPem, keepAlive: false })),
    published: keys.map((k) => k.jwk),
    metadataDown: false,
    requests: { metadata: 0, jwks: 0 },
    sign: (claims, key, header = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({
          alg: key.alg,
          kid: key.kid,
          typ: 'at+jwt',
          ...header,
        })
        .sign(key.privateKey),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer({ cert: tls.chainPem, key: tls.keyPem }, (req, res) => {
    if (req.url === '/.well-known/oauth-authorization-server/as') {
      state.requests.metadata += 1;
      if (state.metadataDown) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer: state.issuer,
          jwks_uri: `${origin}/jwks`,
          token_endpoint: `${origin}/as/token`,
        })
      );
    } else if (req.url === '/jwks') {
      state.requests.jwks += 1;
      if (state.published === 'error') res.writeHead(500).end();
      else res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: state.published }));
    } else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  (state as { issuer: string }).issuer = `${origin}/as`;
  return state;
}

/** RFC 9068 claims for `clientId`, valid for 5 minutes. */
export function accessTokenClaims(issuer: string, clientId: string, scope: string, extra: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    sub: clientId,
    client_id: clientId,
    scope,
    iat: now,
    exp: now + 300,
    jti: `j-${Math.random()}`,
    ...extra,
  };
}
