import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevSet, type DevSet } from '../pki/dev-set';
import { issueClientCert, thumbprintS256 } from '../pki';
import { httpsRequest, requestToken, revokeToken, startAuthorizationServer, type AuthorizationServerHandle } from './index';
import { subjectMatches } from './subject-dn';

describe('subjectMatches', () => {
  it('compares a Node subject with an RFC 4514 DN, order-sensitive and exact', () => {
    expect(subjectMatches('C=GB\nO=Example\nCN=consumer', 'CN=consumer,O=Example,C=GB')).toBe(true);
    expect(subjectMatches('C=GB\nO=Example\nCN=consumer', 'cn=consumer, o=Example, c=GB')).toBe(true);
    expect(subjectMatches('C=GB\nO=Example\nCN=consumer2', 'CN=consumer,O=Example,C=GB')).toBe(false);
    expect(subjectMatches('O=Example\nCN=consumer', 'CN=consumer,O=Example,C=GB')).toBe(false);
    expect(subjectMatches('O=A\\, B\nCN=x', 'CN=x,O=A\\, B')).toBe(false);
    expect(subjectMatches('O=A, B\nCN=x', 'CN=x,O=A\\, B')).toBe(true);
  });
});

describe('authorization server (oidc-provider child process)', () => {
  let dir: string;
  let pki: DevSet;
  let server: AuthorizationServerHandle;
  const ca = () => pki.caBundlePem;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authz-test-'));
    pki = createDevSet(dir);
    server = await startAuthorizationServer({
      tlsCert: pki.files['server.chain.crt']!,
      tlsKey: pki.files['server.key']!,
      clientCa: pki.files.caBundle!,
      scopes: ['datasets:read'],
      accessTokenTtlSeconds: 300,
      clients: [
        { clientId: 'consumer', certFile: pki.files['consumer.crt']!, scope: 'datasets:read' },
        { clientId: 'provider', subjectDn: 'CN=provider,O=Provider Host Dev' },
      ],
    });
  }, 60000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const consumer = () => ({ cert: pki.consumer.chainPem, key: pki.consumer.keyPem, ca: ca() });
  const provider = () => ({ cert: pki.provider.chainPem, key: pki.provider.keyPem, ca: ca() });
  const introspect = async (token: string) => {
    const res = await httpsRequest(`${server.issuer}/token/introspection`, provider(), { form: { token, client_id: 'provider' } });
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as Record<string, unknown>;
  };

  it('publishes discovery with introspection, revocation and bound tokens', async () => {
    expect(server.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsRequest(`${server.issuer}/.well-known/openid-configuration`, consumer());
    const metadata = JSON.parse(res.body);
    expect(metadata.issuer).toBe(server.issuer);
    expect(metadata.introspection_endpoint).toBe(`${server.issuer}/token/introspection`);
    expect(metadata.revocation_endpoint).toBe(`${server.issuer}/token/revocation`);
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(metadata.token_endpoint_auth_methods_supported).toContain('tls_client_auth');
  });

  it('issues an opaque token bound to the client certificate, and introspection shows cnf', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: 'consumer', scope: 'datasets:read', ...consumer() });
    expect(token.token_type).toBe('Bearer');
    expect(token.access_token.split('.')).toHaveLength(1);
    const info = await introspect(token.access_token);
    expect(info).toMatchObject({ active: true, client_id: 'consumer', scope: 'datasets:read', cnf: { 'x5t#S256': thumbprintS256(pki.consumer.certPem) } });
    expect(typeof info.exp).toBe('number');
  });

  it('grants only registered scopes: an unknown one asked for is dropped from the token', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: 'consumer', scope: 'admin datasets:read', ...consumer() });
    expect((await introspect(token.access_token)).scope).toBe('datasets:read');
  });

  it('refuses a certificate whose subject is not the registered one', async () => {
    const stranger = issueClientCert(pki.intermediateCa, { subject: { commonName: 'stranger', organization: 'Provider Host Dev' } });
    await expect(
      requestToken({ issuer: server.issuer, clientId: 'consumer', cert: stranger.chainPem, key: stranger.keyPem, ca: ca() }),
    ).rejects.toThrow(/401.*invalid_client/);
  });

  it('refuses introspection without a client certificate', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: 'consumer', ...consumer() });
    const res = await httpsRequest(`${server.issuer}/token/introspection`, { cert: '', key: '', ca: ca() }, { form: { token: token.access_token, client_id: 'provider' } });
    expect(res.status).toBe(401);
  });

  it('revokes a token so introspection reports it inactive', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: 'consumer', ...consumer() });
    expect((await introspect(token.access_token)).active).toBe(true);
    await revokeToken({ issuer: server.issuer, clientId: 'consumer', token: token.access_token, ...consumer() });
    expect(await introspect(token.access_token)).toEqual({ active: false });
  });
});
