/**
 * The authorization server in the ib1 profile's shape: clients are Directory URLs matched
 * against the certificate's URI SAN (tls_client_auth_san_uri), tokens are RFC 9068 JWTs
 * with client_id = that URL, scope = a licence URL and cnf x5t#S256, the metadata is also at
 * RFC 8414's path, and a signing key can be rotated in before the JWKS lists it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { thumbprintS256 } from '../pki';
import { issueIb1Client } from '../pki/ib1';
import { createIb1Set, IB1_SANDBOX, type Ib1Set } from '../pki/ib1-set';
import { httpsRequest, requestToken, startAuthorizationServer, type AuthorizationServerHandle } from './index';

const CONSUMER = IB1_SANDBOX.application(100, 1);
const PROVIDER = IB1_SANDBOX.application(200, 1);
const RESOURCE = 'https://provider.sandbox.ib1.test';

/** An authorization server for the two members, its files under a new temporary folder. */
async function startIb1Server(prefix: string, options: Partial<Parameters<typeof startAuthorizationServer>[0]>): Promise<{ dir: string; set: Ib1Set; server: AuthorizationServerHandle }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const set = await createIb1Set({
    members: {
      consumer: { directoryUrl: CONSUMER, memberUrl: IB1_SANDBOX.member(100), roles: [IB1_SANDBOX.readerRole] },
      provider: { directoryUrl: PROVIDER, memberUrl: IB1_SANDBOX.member(200), roles: [] },
    },
  });
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const server = await startAuthorizationServer({
    tlsCert: file('server.crt', set.serverCert.chainPem),
    tlsKey: file('server.key', set.serverCert.keyPem),
    clientCa: file('client-ca.crt', set.clientCaBundlePem),
    scopes: [IB1_SANDBOX.licence],
    clients: [
      { clientId: CONSUMER, sanUri: CONSUMER, scope: IB1_SANDBOX.licence },
      { clientId: PROVIDER, sanUri: PROVIDER },
    ],
    ...options,
  });
  return { dir, set, server };
}

describe('authorization server, ib1 profile (JWT access tokens, Directory URL clients)', () => {
  let dir: string;
  let set: Ib1Set;
  let server: AuthorizationServerHandle;

  beforeAll(async () => {
    ({ dir, set, server } = await startIb1Server('authz-ib1-', { accessTokenFormat: 'jwt', defaultResource: RESOURCE }));
  }, 60000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const consumer = () => ({ cert: set.members.consumer!.chainPem, key: set.members.consumer!.keyPem, ca: set.serverCaBundlePem });
  const jwks = async () => JSON.parse((await httpsRequest(`${server.issuer}/jwks`, consumer())).body) as { keys: { kid: string }[] };

  it('publishes its metadata at RFC 8414 /.well-known/oauth-authorization-server as at OIDC discovery', async () => {
    const rfc8414 = await httpsRequest(`${server.issuer}/.well-known/oauth-authorization-server`, consumer());
    const oidc = await httpsRequest(`${server.issuer}/.well-known/openid-configuration`, consumer());
    expect(rfc8414.status).toBe(200);
    const metadata = JSON.parse(rfc8414.body);
    expect(metadata).toEqual(JSON.parse(oidc.body));
    expect(metadata).toMatchObject({ issuer: server.issuer, jwks_uri: `${server.issuer}/jwks`, tls_client_certificate_bound_access_tokens: true });
  });

  it('issues an ES256 at+jwt whose client_id is the Directory URL, scope the licence, bound to the certificate', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: CONSUMER, scope: IB1_SANDBOX.licence, ...consumer() });
    const header = decodeProtectedHeader(token.access_token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const { payload } = await jwtVerify(token.access_token, createLocalJWKSet(await jwks()), { issuer: server.issuer, audience: RESOURCE, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: CONSUMER, scope: IB1_SANDBOX.licence, cnf: { 'x5t#S256': thumbprintS256(set.members.consumer!.certPem) } });
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
  });

  it('refuses a certificate of the same CA whose Directory URL is another one (invalid_client)', async () => {
    const impostor = await issueIb1Client(set.client.issuer, { directoryUrl: IB1_SANDBOX.application(100, 2), memberUrl: IB1_SANDBOX.member(100), roles: [IB1_SANDBOX.readerRole] });
    await expect(
      requestToken({ issuer: server.issuer, clientId: CONSUMER, scope: IB1_SANDBOX.licence, cert: impostor.chainPem, key: impostor.keyPem, ca: set.serverCaBundlePem }),
    ).rejects.toThrow(/401.*invalid_client/);
  });

  it('rotates a signing key in: tokens carry its kid at once, the JWKS lists it only once published', async () => {
    const before = (await jwks()).keys.map((key) => key.kid);
    const kid = await server.rotateSigningKey();
    expect(before).not.toContain(kid);
    const token = await requestToken({ issuer: server.issuer, clientId: CONSUMER, scope: IB1_SANDBOX.licence, ...consumer() });
    expect(decodeProtectedHeader(token.access_token).kid).toBe(kid);
    expect((await jwks()).keys.map((key) => key.kid)).toEqual(before);
    await expect(jwtVerify(token.access_token, createLocalJWKSet(await jwks()))).rejects.toThrow(/no applicable key/i);

    await server.publishSigningKeys();
    expect((await jwks()).keys.map((key) => key.kid).sort()).toEqual([...before, kid].sort());
    const { payload } = await jwtVerify(token.access_token, createLocalJWKSet(await jwks()));
    expect(decodeJwt(token.access_token).client_id).toBe(CONSUMER);
    expect(payload.client_id).toBe(CONSUMER);
  });
});

describe('authorization server, ib1 profile with opaque tokens (introspection)', () => {
  let dir: string;
  let set: Ib1Set;
  let server: AuthorizationServerHandle;

  beforeAll(async () => {
    ({ dir, set, server } = await startIb1Server('authz-ib1-opaque-', {}));
  }, 60000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const consumer = () => ({ cert: set.members.consumer!.chainPem, key: set.members.consumer!.keyPem, ca: set.serverCaBundlePem });

  it('issues an opaque token (not a JWT)', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: CONSUMER, scope: IB1_SANDBOX.licence, ...consumer() });
    expect(token.access_token.split('.')).toHaveLength(1);
  });

  it('introspection (the provider authenticated by its own Directory URL) reports the token with client_id = the Directory URL', async () => {
    const token = await requestToken({ issuer: server.issuer, clientId: CONSUMER, scope: IB1_SANDBOX.licence, ...consumer() });
    const provider = { cert: set.members.provider!.chainPem, key: set.members.provider!.keyPem, ca: set.serverCaBundlePem };
    const res = await httpsRequest(`${server.issuer}/token/introspection`, provider, { form: { token: token.access_token, client_id: PROVIDER } });
    expect(`${res.status} ${res.body}`).toMatch(/^200 /);
    expect(JSON.parse(res.body)).toMatchObject({ active: true, client_id: CONSUMER, scope: IB1_SANDBOX.licence, cnf: { 'x5t#S256': thumbprintS256(set.members.consumer!.certPem) } });
  });
});
