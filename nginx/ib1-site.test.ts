/**
 * The mTLS site rendered in the ib1 profile under a real nginx, with real TLS and
 * IB1-shaped certificates (testing/pki/ib1.ts), in front of a stand-in app on a UNIX
 * socket that records what nginx passed on: TLS 1.3 only, ECDSA client keys only, a
 * request without a certificate reaches the app (which serves open data or refuses),
 * the forged client-certificate header never does, and an anonymous authorisation is
 * never reused for a request with a certificate or a token.
 */
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIb1Pki, issueIb1Client, issueIb1Server, type IssuedCertificate } from '../testing/pki/ib1';
import { freePort } from '../lib/ports';
import { testSiteValues } from '../testing/nginx-test-site';
import { mtlsRequest, type MtlsRequestOptions } from '../testing/replica/mtls-request';
import { createNginxPrefix, startNginx, stopNginx } from '../testing/replica/nginx-process';
import { renderMtlsSite } from './sites';

const OPEN_CSV = 'ts,value\n2026-01-01T00:00:00Z,1\n';
const APP = 'https://directory.example.org/member/1/applications/2';
const ROLE = 'https://registry.example.org/scheme/roles/reporter';

let dir: string;
let nginxPid = 0;
let upstream: Server | undefined;
let httpsPort: number;
let serverCaPem: string;
let ecdsa: IssuedCertificate;
let ecdsaP384: IssuedCertificate;
let rsa: IssuedCertificate;
let foreign: IssuedCertificate;
const seenByApp: { url: string; headers: IncomingHttpHeaders }[] = [];
const authzCalls: IncomingHttpHeaders[] = [];
type AuthzAnswer = { readonly status: number; readonly headers?: OutgoingHttpHeaders };
let answerAuthz: (headers: IncomingHttpHeaders) => AuthzAnswer = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
const md5 = (text: string) => createHash('md5').update(text).digest('base64url');
/** The real app's answer to a read it allows (provider-app/nginx-authz.ts): MD5 of the Authorization header, "" without one. */
const allow = (reuseSeconds: number) => (headers: IncomingHttpHeaders): AuthzAnswer => ({
  status: 204,
  headers: { 'X-Provider-Dataset-File': 'open.csv', 'X-Provider-Client-Id': '', 'X-Provider-Token-Digest': md5(String(headers.authorization ?? '')), 'X-Accel-Expires': String(reuseSeconds) },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-ib1-'));
  chmodSync(dir, 0o755);
  const clientPki = await createIb1Pki({ trustFramework: 'Test IB1' });
  const serverPki = await createIb1Pki({ trustFramework: 'Test IB1', hierarchy: 'Server' });
  const server = await issueIb1Server(serverPki.issuer, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  ecdsa = await issueIb1Client(clientPki.issuer, { directoryUrl: APP, memberUrl: 'https://directory.example.org/member/1', roles: [ROLE] });
  ecdsaP384 = await issueIb1Client(clientPki.issuer, { directoryUrl: APP, roles: [ROLE], keyAlgorithm: 'P-384' });
  // Same trusted issuer, same shape: only the key is RSA.
  rsa = await issueIb1Client(clientPki.issuer, { directoryUrl: APP, roles: [ROLE], keyAlgorithm: 'RSA' });
  const otherPki = await createIb1Pki({ trustFramework: 'Other' });
  foreign = await issueIb1Client(otherPki.issuer, { directoryUrl: APP, roles: [ROLE] });
  serverCaPem = serverPki.root.certPem;

  for (const sub of ['tls', 'public', 'data', 'acme', 'logs', 'run', 'conf.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'tls', 'server.crt'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'server.key'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'client-ca.crt'), `${clientPki.root.certPem}${clientPki.issuer.certPem}`);
  writeFileSync(join(dir, 'data', 'open.csv'), OPEN_CSV);

  const socket = join(dir, 'run', 'app.sock');
  upstream = createServer((req, res) => {
    if (req.url === '/.provider/authz') {
      authzCalls.push(req.headers);
      const answer = answerAuthz(req.headers);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
      return;
    }
    seenByApp.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, clientCert: req.headers['x-oe-client-cert'] ?? null }));
  });
  await new Promise<void>((resolveListen) => upstream!.listen(socket, resolveListen));

  httpsPort = await freePort();
  const httpPort = await freePort();
  const prefix = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'provider.conf'),
    renderMtlsSite(await testSiteValues(dir, { https: httpsPort, http: httpPort }, socket, { trustProfile: 'ib1', heartbeatPath: '/heartbeat' })),
  );
  nginxPid = startNginx(prefix);
}, 60000);

afterAll(async () => {
  await stopNginx(nginxPid);
  await new Promise<void>((resolveClose) => (upstream ? upstream.close(() => resolveClose()) : resolveClose()));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  seenByApp.length = 0;
  authzCalls.length = 0;
  answerAuthz = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
});

function get(path: string, options: Partial<MtlsRequestOptions> = {}) {
  return mtlsRequest({ port: httpsPort, path, ca: serverCaPem, servername: 'localhost', ...options });
}
const withCert = (cert: IssuedCertificate): Partial<MtlsRequestOptions> => ({ cert: cert.chainPem, key: cert.keyPem });

/** openssl s_client, its stdin held open a second so that it prints the whole handshake. */
function sClient(args: string[]): string {
  const command = `(sleep 1) | openssl s_client -connect 127.0.0.1:${httpsPort} -servername localhost ${args.join(' ')}`;
  const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', timeout: 15000 });
  return `${result.stdout}${result.stderr}`;
}

describe('ib1 TLS: 1.3 only', () => {
  it('refuses a TLS 1.2 handshake (node and openssl s_client) and completes a TLS 1.3 one', async () => {
    const tls12 = await get('/x', { ...withCert(ecdsa), maxVersion: 'TLSv1.2' });
    expect(tls12.ok).toBe(false);
    expect(!tls12.ok && tls12.error).toMatch(/protocol version|alert/i);
    expect(sClient(['-tls1_2'])).toMatch(/alert protocol version|no protocols available|wrong version number/i);

    const tls13 = await get('/x', withCert(ecdsa));
    expect(tls13.ok && [tls13.protocol, tls13.status]).toEqual(['TLSv1.3', 200]);
    const offered = sClient(['-tls1_3']);
    expect(offered).toMatch(/Protocol\s*: TLSv1\.3/);
    // The server certificate is ECDSA P-256 (the snippet does not fight it).
    expect(offered).toMatch(/Peer signature type: ECDSA/);
  }, 30000);

  it('asks for ECDSA client signatures only (CertificateRequest sigalgs)', () => {
    const out = sClient(['-tls1_3']);
    const line = /Requested Signature Algorithms: (.+)/.exec(out)?.[1] ?? '';
    expect(line.split(':').sort()).toEqual(['ECDSA+SHA256', 'ECDSA+SHA384']);
  }, 30000);
});

describe('ib1 client certificates: ECDSA keys only', () => {
  it('passes an ECDSA P-256 and a P-384 certificate to the app, URL-encoded, verified', async () => {
    for (const cert of [ecdsa, ecdsaP384]) {
      const response = await get('/x', withCert(cert));
      expect(response.ok && response.status).toBe(200);
      const passed = decodeURIComponent(String(seenByApp.at(-1)!.headers['x-oe-client-cert']));
      expect(new X509Certificate(passed).fingerprint256).toBe(new X509Certificate(cert.certPem).fingerprint256);
    }
  });

  it('never accepts an RSA certificate from the trusted issuer: no ECDSA signature to offer, so the client has no certificate it may send', async () => {
    const response = await get('/x', withCert(rsa));
    // OpenSSL's client withholds a certificate whose key cannot make a signature the
    // server asked for: the request arrives as anonymous, and the RSA certificate never
    // reaches the app (which serves only open data to anonymous callers).
    expect(response.ok && response.status).toBe(200);
    expect(seenByApp).toHaveLength(1);
    // nginx sends no header for an empty $ssl_client_escaped_cert.
    expect(seenByApp[0]!.headers['x-oe-client-cert']).toBeUndefined();
    // The same certificate with an ECDSA key is passed on (the refusal is the key's).
    expect((await get('/x', withCert(ecdsa))).ok).toBe(true);
    expect(seenByApp[1]!.headers['x-oe-client-cert']).toEqual(expect.any(String));
  });

  it('still refuses a certificate from outside the trust bundle: 400 with the JSON page', async () => {
    const response = await get('/x', withCert(foreign));
    expect(response.ok && response.status).toBe(400);
    expect(response.ok && JSON.parse(response.body.toString('utf8'))).toMatchObject({ error: expect.any(String) });
    expect(seenByApp).toHaveLength(0);
  });
});

describe('ib1 without a client certificate: the app decides (open data for anyone)', () => {
  it('passes the request to the app without a client-certificate header, whatever the client forged', async () => {
    const forged = encodeURIComponent(ecdsa.certPem);
    const response = await get('/some-shared-dataset?x=1', { headers: { 'X-OE-CLIENT-CERT': forged } });
    expect(response.ok && response.status).toBe(200);
    expect(seenByApp).toHaveLength(1);
    // Overwritten with the empty $ssl_client_escaped_cert, which nginx does not send at all.
    expect(seenByApp[0]!.headers['x-oe-client-cert']).toBeUndefined();
    // And a dataset read without a certificate carries none to the app's decision either.
    await get('/some-shared-dataset', { headers: { 'X-OE-CLIENT-CERT': forged } });
    expect(authzCalls).toHaveLength(1);
    expect(authzCalls[0]!['x-oe-client-cert']).toBeUndefined();
    expect(seenByApp.at(-1)!.headers['x-oe-client-cert']).toBeUndefined();
  });

  it('routes the heartbeat to the app itself, never to the dataset path', async () => {
    const response = await get('/heartbeat', withCert(ecdsa));
    expect(response.ok && response.status).toBe(200);
    expect(authzCalls).toHaveLength(0);
    expect(seenByApp.map((r) => r.url)).toEqual(['/heartbeat']);
  });

  it('sends an open dataset nginx-side to an anonymous reader the app allowed (plain GET, no certificate, no token)', async () => {
    answerAuthz = allow(0);
    const response = await get('/open');
    expect(response.ok && [response.status, response.body.toString('utf8')]).toEqual([200, OPEN_CSV]);
    expect(authzCalls).toHaveLength(1);
    expect(authzCalls[0]!['x-oe-client-cert']).toBeUndefined();
    expect(authzCalls[0]!.authorization).toBeUndefined();
    expect(seenByApp).toHaveLength(0);
  });

  it('never reuses an anonymous answer for a request with a token or a certificate, nor theirs for an anonymous one', async () => {
    answerAuthz = allow(10);
    expect((await get('/open')).ok).toBe(true);
    expect(authzCalls).toHaveLength(1);
    // The same anonymous read again: reused (no new subrequest).
    const again = await get('/open');
    expect(again.ok && again.status).toBe(200);
    expect(authzCalls).toHaveLength(1);

    // A token without a certificate: the cached answer's digest is MD5("") — not this
    // token's, so nginx does not send the file on it; the app's full path decides.
    answerAuthz = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
    const withToken = await get('/open', { headers: { Authorization: 'Bearer t-1' } });
    expect(withToken.ok && withToken.status).toBe(200);
    expect(seenByApp.map((r) => [r.url, r.headers.authorization])).toEqual([['/open', 'Bearer t-1']]);

    // A certificate: a different cache key, so the app is asked afresh.
    const withCertificate = await get('/open', withCert(ecdsa));
    expect(withCertificate.ok && withCertificate.status).toBe(200);
    expect(authzCalls).toHaveLength(2);
    expect(String(authzCalls[1]!['x-oe-client-cert'])).not.toBe('');

    // The other way round: an answer for a certificate holder is not reused anonymously.
    answerAuthz = allow(10);
    expect((await get('/other', withCert(ecdsaP384))).ok).toBe(true);
    expect(authzCalls).toHaveLength(3);
    answerAuthz = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
    seenByApp.length = 0;
    const anonymous = await get('/other');
    expect(anonymous.ok && JSON.parse(anonymous.body.toString('utf8'))).toEqual({ path: '/other', clientCert: null });
    expect(authzCalls).toHaveLength(4);
    expect(authzCalls[3]!['x-oe-client-cert']).toBeUndefined();
  });
});
