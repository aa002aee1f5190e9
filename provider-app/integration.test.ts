/**
 * The provider app against a real authorization server: oidc-provider in a child process
 * over HTTPS on 127.0.0.1, certificates from testing/pki, tokens from the real token endpoint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { requestToken, revokeToken, startAuthorizationServer, type AuthorizationServerHandle, type AuthzServerConfig } from '../testing/authz-server';
import { createDevSet, type DevSet } from '../testing/pki/dev-set';
import { issueClientCert, writeCertSet, type IssuedCertificate } from '../testing/pki';
import { createApp } from './app';
import { IntrospectionClient } from './introspection';
import { CachingIntrospector } from './token-cache';
import { escapedCert, memoryLogger } from '../testing/provider-app-fixtures';

jest.setTimeout(60000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('provider app with a real authorization server', () => {
  let dir: string;
  let pki: DevSet;
  let bob: IssuedCertificate;
  let unbound: IssuedCertificate;
  let brief: IssuedCertificate;
  let authzConfig: AuthzServerConfig;
  let authz: AuthorizationServerHandle | undefined;
  const introspectors: CachingIntrospector[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provider-int-'));
    pki = createDevSet(join(dir, 'pki'));
    const org = 'Provider Host Dev';
    bob = issueClientCert(pki.intermediateCa, { subject: { commonName: 'bob', organization: org } });
    unbound = issueClientCert(pki.intermediateCa, { subject: { commonName: 'unbound', organization: org } });
    brief = issueClientCert(pki.intermediateCa, { subject: { commonName: 'brief', organization: org } });
    writeCertSet(join(dir, 'pki'), { bob, unbound, brief });
    writeFileSync(join(dir, 'meters.csv'), 'id,kwh\n1,2.5\n');
    const file = (name: string) => join(dir, 'pki', name);
    authzConfig = {
      tlsCert: file('server.chain.crt'),
      tlsKey: file('server.key'),
      clientCa: file('ca-bundle.crt'),
      scopes: ['datasets:read'],
      clients: [
        { clientId: 'consumer', certFile: file('consumer.crt'), scope: 'datasets:read' },
        { clientId: 'bob', certFile: file('bob.crt'), scope: 'datasets:read' },
        { clientId: 'unbound', certFile: file('unbound.crt'), scope: 'datasets:read', certificateBoundAccessTokens: false },
        { clientId: 'brief', certFile: file('brief.crt'), scope: 'datasets:read', accessTokenTtlSeconds: 2 },
        { clientId: 'provider', certFile: file('provider.crt') },
      ],
    };
    authz = await startAuthorizationServer(authzConfig);
  });

  afterAll(async () => {
    for (const i of introspectors) i.close();
    await authz?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A provider app wired as main.ts wires it, pointed at `issuer`. */
  function provider(options: { ttlSeconds?: number; issuer?: string; timeoutMs?: number } = {}) {
    const introspector = new CachingIntrospector(
      new IntrospectionClient({
        issuer: options.issuer ?? authz!.issuer,
        clientId: 'provider',
        tlsCert: join(dir, 'pki', 'provider.chain.crt'),
        tlsKey: join(dir, 'pki', 'provider.key'),
        tlsCa: join(dir, 'pki', 'ca-bundle.crt'),
        timeoutMs: options.timeoutMs ?? 3000,
      }),
      { ttlSeconds: options.ttlSeconds ?? 0, maxEntries: 100 },
    );
    introspectors.push(introspector);
    const { logger, lines } = memoryLogger();
    const app = createApp({ logger, introspector, dataDir: dir, scope: 'datasets:read', clientCertHeader: 'x-oe-client-cert', clockSkewSeconds: 0, retryAfterSeconds: 5 });
    const get = (token: string, cert: IssuedCertificate) =>
      request(app).get('/meters').set('x-oe-client-cert', escapedCert(cert)).set('Authorization', `Bearer ${token}`);
    return { get, lines };
  }

  /** `scope: null` asks for a token without any scope. */
  const tokenFor = async (clientId: string, cert: IssuedCertificate, scope: string | null = 'datasets:read') =>
    (await requestToken({ issuer: authz!.issuer, clientId, scope: scope ?? undefined, cert: cert.chainPem, key: cert.keyPem, ca: pki.caBundlePem })).access_token;

  it('serves a dataset to a consumer presenting its bound token and certificate', async () => {
    const res = await provider().get(await tokenFor('consumer', pki.consumer), pki.consumer);
    expect(res.status).toBe(200);
    expect(res.text).toBe('id,kwh\n1,2.5\n');
  });

  it("refuses a token presented with another consumer's certificate (RFC 8705 binding)", async () => {
    const res = await provider().get(await tokenFor('consumer', pki.consumer), bob);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/different client certificate/);
  });

  it('refuses a token without a certificate binding (no cnf)', async () => {
    const res = await provider().get(await tokenFor('unbound', unbound), unbound);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/not certificate-bound/);
  });

  it('refuses an unknown (inactive) token', async () => {
    const res = await provider().get('bm90LWEtcmVhbC10b2tlbg', pki.consumer);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/not active/);
  });

  it('refuses a token with too little scope with 403', async () => {
    const res = await provider().get(await tokenFor('consumer', pki.consumer, null), pki.consumer);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
  });

  it('refuses an expired token even though the cache TTL is longer than its life', async () => {
    const app = provider({ ttlSeconds: 60 });
    const token = await tokenFor('brief', brief);
    expect((await app.get(token, brief)).status).toBe(200);
    await sleep(2500);
    const res = await app.get(token, brief);
    expect(res.status).toBe(401);
  });

  it('refuses a revoked token once the cache TTL has passed', async () => {
    const app = provider({ ttlSeconds: 1 });
    const token = await tokenFor('consumer', pki.consumer);
    expect((await app.get(token, pki.consumer)).status).toBe(200);
    await revokeToken({ issuer: authz!.issuer, clientId: 'consumer', token, cert: pki.consumer.chainPem, key: pki.consumer.keyPem, ca: pki.caBundlePem });
    expect((await app.get(token, pki.consumer)).status).toBe(200); // still cached: the TTL is the documented trade-off
    await sleep(1200);
    const res = await app.get(token, pki.consumer);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/not active/);
  });

  it('answers 503 with Retry-After while the authorization server is down, then recovers by itself', async () => {
    const app = provider();
    const before = await tokenFor('consumer', pki.consumer);
    expect((await app.get(before, pki.consumer)).status).toBe(200);
    const port = authz!.port;
    await authz!.stop();
    authz = undefined;
    const down = await app.get(before, pki.consumer);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.body.error).toBe('temporarily_unavailable');
    authz = await startAuthorizationServer({ ...authzConfig, port });
    const res = await app.get(await tokenFor('consumer', pki.consumer), pki.consumer);
    expect(res.status).toBe(200);
  });

  describe('a silent authorization server', () => {
    let silent: TcpServer;
    let port: number;
    beforeAll(async () => {
      // Accepts TCP connections and never answers: the TLS handshake hangs.
      silent = createTcpServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(() => {
      silent.close();
    });

    it('gets 503 within the introspection timeout, not a hang', async () => {
      const app = provider({ issuer: `https://127.0.0.1:${port}`, timeoutMs: 300 });
      const started = Date.now();
      const res = await app.get('any-token', pki.consumer);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });
});
