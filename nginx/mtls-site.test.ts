/**
 * The rendered mTLS site under a real nginx, with real TLS, in front of a tiny
 * upstream on a UNIX socket that echoes what nginx passed on.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIntermediateCa, createRootCa, issueClientCert, issueServerCert, type IssuedCertificate } from '../testing/pki';
import { waitFor } from '../lib/child-process';
import { freePort } from '../lib/ports';
import { testSiteValues } from '../testing/nginx-test-site';
import { mtlsRequest, type MtlsRequestOptions } from '../testing/replica/mtls-request';
import { createNginxPrefix, startNginx, stopNginx } from '../testing/replica/nginx-process';
import { nginxSourceDir, renderMtlsSite } from './sites';

const DAY = 24 * 3600 * 1000;
const SMALL_CSV = 'ts,value\n2026-01-01T00:00:00Z,1\n';

let dir: string;
let nginxPid = 0;
let upstream: Server | undefined;
let httpsPort: number;
let httpPort: number;
let serverCaPem: string;
let consumer: IssuedCertificate;
let viaIntermediate: IssuedCertificate;
let otherCa: IssuedCertificate;
let expired: IssuedCertificate;
const seenByApp: IncomingHttpHeaders[] = [];
/** nginx's authorization subrequests (GET /.provider/authz), apart from the requests it passes on. */
const authzCalls: IncomingHttpHeaders[] = [];
type AuthzAnswer = { readonly status: number; readonly headers?: OutgoingHttpHeaders };
/** What the stand-in app answers a subrequest; by default "ask me" (403), as the real app does on a cold cache. */
let answerAuthz: (headers: IncomingHttpHeaders) => AuthzAnswer = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
const md5 = (text: string) => createHash('md5').update(text).digest('base64url');
/** The real app's answer to a read it allows: the file, the client id, MD5 of the token, how long to reuse it. */
const allow = (file: string, reuseSeconds: number) => (headers: IncomingHttpHeaders): AuthzAnswer => ({
  status: 204,
  headers: {
    'X-Provider-Dataset-File': file,
    'X-Provider-Client-Id': 'consumer-client',
    'X-Provider-Token-Digest': md5(String(headers.authorization ?? '')),
    'X-Accel-Expires': String(reuseSeconds),
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-mtls-'));
  chmodSync(dir, 0o755);
  const root = createRootCa({ subject: { commonName: 'Test Root CA' } });
  const intermediate = createIntermediateCa(root, { subject: { commonName: 'Test Issuing CA' } });
  const server = issueServerCert(intermediate, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  // The trust bundle holds the root only for these: the consumer sends its chain.
  consumer = issueClientCert(root, { subject: { commonName: 'consumer-direct', organization: 'Energy Co' } });
  viaIntermediate = issueClientCert(intermediate, { subject: { commonName: 'consumer-via-intermediate' } });
  const foreignRoot = createRootCa({ subject: { commonName: 'Some Other CA' } });
  otherCa = issueClientCert(foreignRoot, { subject: { commonName: 'intruder' } });
  expired = issueClientCert(root, { subject: { commonName: 'expired' }, notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
  serverCaPem = root.certPem;

  for (const sub of ['tls', 'public', 'data', 'acme/.well-known/acme-challenge', 'logs', 'run', 'conf.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'tls', 'server.crt'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'server.key'), server.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'client-ca.crt'), root.certPem);
  writeFileSync(join(dir, 'public', 'static.csv'), 'static,file\n');
  writeFileSync(join(dir, 'data', 'small.csv'), SMALL_CSV);
  writeFileSync(join(dir, 'acme', '.well-known', 'acme-challenge', 'tok123'), 'tok123.thumb');

  const socket = join(dir, 'run', 'app.sock');
  upstream = createServer((req, res) => {
    if (req.url === '/.provider/authz') {
      authzCalls.push(req.headers);
      const answer = answerAuthz(req.headers);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
      return;
    }
    seenByApp.push(req.headers);
    if (req.url === '/accel') {
      res.writeHead(200, { 'X-Accel-Redirect': '/_datasets/small.csv', 'Content-Type': 'text/csv', 'x-fapi-interaction-id': 'accel-interaction-1' });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'x-fapi-interaction-id': String(req.headers['x-fapi-interaction-id']) });
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  await new Promise<void>((resolveListen) => upstream!.listen(socket, resolveListen));

  httpsPort = await freePort();
  httpPort = await freePort();
  const prefix = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'provider.conf'),
    renderMtlsSite(await testSiteValues(dir, { https: httpsPort, http: httpPort }, socket)),
  );
  nginxPid = startNginx(prefix);
});

afterAll(async () => {
  await stopNginx(nginxPid);
  await new Promise<void>((resolveClose) => (upstream ? upstream.close(() => resolveClose()) : resolveClose()));
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, options: Partial<MtlsRequestOptions> = {}) {
  return mtlsRequest({ port: httpsPort, path, ca: serverCaPem, servername: 'localhost', cert: consumer.certPem, key: consumer.keyPem, ...options });
}

function openssl(args: string[]): string {
  const result = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${httpsPort}`, '-servername', 'localhost', ...args], { input: '', encoding: 'utf8', timeout: 10000 });
  return `${result.stdout}${result.stderr}`;
}

describe('dataset reads: nginx asks the app (auth_request), then sends the file itself', () => {
  const token = (name: string) => ({ Authorization: `Bearer ${name}` });
  afterEach(() => {
    answerAuthz = () => ({ status: 403, headers: { 'X-Accel-Expires': '0' } });
  });

  it('sends the file the app allowed, with the FAPI headers, without passing the request on', async () => {
    answerAuthz = allow('small.csv', 0);
    const [calls, passed] = [authzCalls.length, seenByApp.length];
    const response = await get('/meters', { headers: { ...token('tok-1'), 'x-fapi-interaction-id': 'consumer-id-1' } });
    if (!response.ok) throw new Error(response.error);
    expect([response.status, response.body.toString()]).toEqual([200, SMALL_CSV]);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['cache-control']).toBe('private, no-cache');
    expect(response.headers['x-fapi-interaction-id']).toBe('consumer-id-1');
    expect(seenByApp.length).toBe(passed);
    expect(authzCalls.length).toBe(calls + 1);
    const asked = authzCalls[calls];
    expect(asked['x-original-uri']).toBe('/meters');
    expect(asked.authorization).toBe('Bearer tok-1');
    expect(asked['x-fapi-interaction-id']).toBe('consumer-id-1');
    expect(decodeURIComponent(String(asked['x-oe-client-cert']))).toBe(consumer.certPem.replace(/\r\n/g, '\n'));
  });

  it('reuses an allowed answer for the same certificate, token and path while the app says so (X-Accel-Expires)', async () => {
    answerAuthz = allow('small.csv', 5);
    const calls = authzCalls.length;
    for (let i = 0; i < 3; i += 1) expect((await get('/reused', { headers: token('tok-2') })).ok).toBe(true);
    expect(authzCalls.length).toBe(calls + 1);
    answerAuthz = allow('small.csv', 0);
    const again = authzCalls.length;
    for (let i = 0; i < 3; i += 1) expect((await get('/not-reused', { headers: token('tok-2') })).ok).toBe(true);
    expect(authzCalls.length).toBe(again + 3);
  });

  it('never reuses an answer for another token: that request goes to the app, which decides', async () => {
    answerAuthz = allow('small.csv', 5);
    expect(await get('/one-token', { headers: token('tok-3') })).toMatchObject({ status: 200 });
    const [calls, passed] = [authzCalls.length, seenByApp.length];
    const forged = await get('/one-token', { headers: token('tok-3-forged') });
    expect(forged.ok && [forged.status, JSON.parse(forged.body.toString()).path]).toEqual([200, '/one-token']); // the stand-in app's answer, not the file
    expect(seenByApp.length).toBe(passed + 1);
    expect(seenByApp[passed].authorization).toBe('Bearer tok-3-forged');
    const none = await get('/one-token');
    expect(none.ok && JSON.parse(none.body.toString()).path).toBe('/one-token');
    expect(authzCalls.length).toBe(calls); // the cached answer was found, and refused
  });

  it('never reuses an answer for another certificate', async () => {
    answerAuthz = allow('small.csv', 5);
    await get('/one-cert', { headers: token('tok-4') });
    const calls = authzCalls.length;
    const other = await get('/one-cert', { headers: token('tok-4'), cert: viaIntermediate.chainPem, key: viaIntermediate.keyPem });
    expect(other.ok && other.status).toBe(200);
    expect(authzCalls.length).toBe(calls + 1);
    expect(decodeURIComponent(String(authzCalls[calls]['x-oe-client-cert']))).toBe(viaIntermediate.certPem.replace(/\r\n/g, '\n'));
  });

  it('passes the request to the app when the app says "ask me" (403), and the app answers', async () => {
    const passed = seenByApp.length;
    const response = await get('/refused', { headers: { ...token('tok-5'), 'x-fapi-interaction-id': 'bad id!' } });
    expect(response.ok && [response.status, JSON.parse(response.body.toString()).path]).toEqual([200, '/refused']);
    expect(seenByApp.length).toBe(passed + 1);
    // An unsafe interaction id is replaced, by nginx, with a UUID the app sees too.
    expect(response.ok && response.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(response.ok && seenByApp[passed]['x-fapi-interaction-id']).toBe(response.ok && response.headers['x-fapi-interaction-id']);
  });

  it('sends only a plain <name>.csv of the datasets folder, whatever file the app names; a missing one goes to the app', async () => {
    writeFileSync(join(dir, 'secret.csv'), 'not a dataset\n');
    for (const file of ['../secret.csv', 'sub/small.csv', '.hidden.csv', 'small.txt', 'absent.csv']) {
      answerAuthz = allow(file, 0);
      const passed = seenByApp.length;
      const response = await get('/odd-file', { headers: token('tok-6') });
      expect({ file, body: response.ok && response.body.toString() }).toEqual({ file, body: JSON.stringify({ path: '/odd-file', method: 'GET' }) });
      expect(seenByApp.length).toBe(passed + 1);
    }
  });

  it('answers HEAD, Range and conditional requests itself', async () => {
    answerAuthz = allow('small.csv', 5);
    const head = await get('/ranges', { headers: token('tok-7'), method: 'HEAD' });
    expect(head.ok && [head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(SMALL_CSV.length), 0]);
    const range = await get('/ranges', { headers: { ...token('tok-7'), Range: 'bytes=0-1' } });
    expect(range.ok && [range.status, range.body.toString(), range.headers['content-range']]).toEqual([206, 'ts', `bytes 0-1/${SMALL_CSV.length}`]);
    const etag = String(range.ok && range.headers.etag);
    const notModified = await get('/ranges', { headers: { ...token('tok-7'), 'If-None-Match': etag } });
    expect(notModified.ok && notModified.status).toBe(304);
  });

  it('passes other routes, query strings and methods to the app without asking', async () => {
    answerAuthz = allow('small.csv', 5);
    const calls = authzCalls.length;
    for (const [path, method] of [['/ping', 'GET'], ['/DATASETS', 'GET'], ['/datasets.csv', 'GET'], ['/meters?access_token=x', 'GET'], ['/meters', 'POST'], ['/a/b', 'GET']]) {
      const response = await get(path, { headers: token('tok-8'), method });
      expect({ path, method, answer: response.ok && JSON.parse(response.body.toString()) }).toEqual({ path, method, answer: { path, method } });
    }
    expect(authzCalls.length).toBe(calls);
  });

  it('hides the authorization endpoint from clients (404, the app never asked)', async () => {
    answerAuthz = allow('small.csv', 0);
    const [calls, passed] = [authzCalls.length, seenByApp.length];
    for (const path of ['/.provider/authz', '/.provider/authz?x=1', '/.provider/%61uthz', '/.provider//authz']) {
      const response = await get(path, { headers: token('tok-11') });
      expect({ path, answer: response.ok && [response.status, JSON.parse(response.body.toString()).error] }).toEqual({ path, answer: [404, 'not_found'] });
    }
    expect([authzCalls.length, seenByApp.length]).toEqual([calls, passed]);
  });

  it('keeps no token in its cache of answers', async () => {
    answerAuthz = allow('small.csv', 5);
    await get('/cached', { headers: token('tok-secret-9') });
    const files = (folder: string): string[] => readdirSync(folder, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(folder, entry.name)) : [join(folder, entry.name)]));
    const cached = files(join(dir, 'authz-cache')).map((file) => readFileSync(file, 'latin1'));
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.some((text) => text.includes(md5('Bearer tok-secret-9')))).toBe(true);
    expect(cached.filter((text) => text.includes('tok-secret-9'))).toEqual([]);
  });

  it('logs the client id and whether the answer was reused', async () => {
    answerAuthz = allow('small.csv', 5);
    await get('/logged', { headers: token('tok-10') });
    await get('/logged', { headers: token('tok-10') });
    const lines = () => readFileSync(join(dir, 'logs', 'access.json.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((entry) => entry.request === 'GET /logged HTTP/1.1');
    const logged = await waitFor('two /logged access-log lines', () => (lines().length === 2 ? lines() : undefined), 5000, 20);
    expect(logged.map((entry: Record<string, unknown>) => [entry.status, entry.client_id, entry.authz_status, entry.authz_cache])).toEqual([
      [200, 'consumer-client', '204', 'MISS'],
      [200, 'consumer-client', '204', 'HIT'],
    ]);
  });
});

describe('mTLS site', () => {
  it('passes an authenticated request to the app with the verified certificate in X-OE-CLIENT-CERT', async () => {
    const before = seenByApp.length;
    const response = await get('/some-dataset');
    expect(response.ok && response.status).toBe(200);
    const headers = seenByApp[before];
    expect(decodeURIComponent(String(headers['x-oe-client-cert']))).toBe(consumer.certPem.replace(/\r\n/g, '\n'));
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('overwrites a client-sent X-OE-CLIENT-CERT (and X-Forwarded-For) with what TLS verified', async () => {
    const before = seenByApp.length;
    const response = await get('/x', { headers: { 'X-OE-CLIENT-CERT': encodeURIComponent(otherCa.certPem), 'X-Forwarded-For': '203.0.113.9' } });
    expect(response.ok && response.status).toBe(200);
    const headers = seenByApp[before];
    expect(decodeURIComponent(String(headers['x-oe-client-cert']))).toBe(consumer.certPem.replace(/\r\n/g, '\n'));
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('passes the requested server name as Host (nginx $host, port dropped), not the upstream name', async () => {
    const before = seenByApp.length;
    const response = await get('/host-probe', { headers: { Host: `localhost:${httpsPort}` } });
    expect(response.ok && response.status).toBe(200);
    // Without `proxy_set_header Host $host` the app would see "provider_app" (the upstream block's name).
    expect(seenByApp[before].host).toBe('localhost');
  });

  it('refuses a request without a client certificate, with a JSON body and an interaction id, before the app', async () => {
    const before = seenByApp.length;
    const response = await get('/x', { cert: undefined, key: undefined, headers: { 'x-fapi-interaction-id': 'no-cert-1' } });
    expect(response.ok && response.status).toBe(400);
    expect(response.ok && JSON.parse(response.body.toString()).error).toBe('invalid_client');
    expect(response.ok && response.headers['x-fapi-interaction-id']).toBe('no-cert-1');
    expect(seenByApp.length).toBe(before);
  });

  it('without a client certificate answers /ping only (the health check), passing no client certificate header, and refuses every dataset, route and file', async () => {
    const before = seenByApp.length;
    const ping = await get('/ping', { cert: undefined, key: undefined, headers: { 'X-OE-CLIENT-CERT': 'forged' } });
    expect(ping.ok && ping.status).toBe(200);
    expect(seenByApp.length).toBe(before + 1);
    const seen = seenByApp[seenByApp.length - 1]!;
    expect(JSON.stringify(seen)).not.toContain('forged');
    for (const path of ['/meters', '/datasets', '/PING', '/ping.csv', '/ping?x=1', '/static.csv', '/_datasets/small.csv']) {
      const response = await get(path, { cert: undefined, key: undefined });
      // /ping?x=1 is /ping; the internal locations answer 404 to anyone from outside.
      const expected = path === '/ping?x=1' ? 200 : path.startsWith('/_datasets/') ? 404 : 400;
      expect({ path, status: response.ok && response.status }).toEqual({ path, status: expected });
    }
  });

  it('refuses a certificate from a CA outside the trust bundle', async () => {
    const before = seenByApp.length;
    const response = await get('/x', { cert: otherCa.certPem, key: otherCa.keyPem });
    expect(response.ok && response.status).toBe(400);
    expect(seenByApp.length).toBe(before);
  });

  it('refuses an expired certificate from the trusted CA', async () => {
    const response = await get('/x', { cert: expired.certPem, key: expired.keyPem });
    expect(response.ok && response.status).toBe(400);
  });

  it('accepts a certificate issued by an intermediate CA (verify depth > 1)', async () => {
    const response = await get('/x', { cert: viaIntermediate.chainPem, key: viaIntermediate.keyPem });
    expect(response.ok && response.status).toBe(200);
  });

  it('refuses TLS 1.1 with a protocol-version alert from the server', () => {
    const output = openssl(['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    // Alert 70 comes from the server: the client (SECLEVEL=0) was willing.
    expect(output).toMatch(/tlsv1 alert protocol version/);
    expect(output).toMatch(/Cipher is \(NONE\)/);
  });

  it.each(['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384'])('accepts the FAPI suite %s on TLS 1.2', async (cipher) => {
    const response = await get('/x', { ciphers: cipher, maxVersion: 'TLSv1.2' });
    expect(response.ok && [response.protocol, response.cipher, response.status]).toEqual(['TLSv1.2', cipher, 200]);
  });

  it.each(['AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-RSA-AES256-SHA'])('refuses the non-FAPI suite %s on TLS 1.2', async (cipher) => {
    const response = await get('/x', { ciphers: cipher, maxVersion: 'TLSv1.2' });
    expect(response.ok).toBe(false);
  });

  it('negotiates TLS 1.3 when the client offers it', async () => {
    const response = await get('/x');
    expect(response.ok && response.protocol).toBe('TLSv1.3');
  });

  it('serves public/ files itself, before the app', async () => {
    const before = seenByApp.length;
    const response = await get('/static.csv');
    expect(response.ok && response.body.toString()).toBe('static,file\n');
    expect(seenByApp.length).toBe(before);
  });

  it('sends the dataset file named by X-Accel-Redirect, and hides /_datasets/ from clients', async () => {
    const accel = await get('/accel');
    expect(accel.ok && [accel.status, accel.body.toString()]).toEqual([200, SMALL_CSV]);
    expect(accel.ok && accel.headers['x-fapi-interaction-id']).toBe('accel-interaction-1');
    const direct = await get('/_datasets/small.csv');
    expect(direct.ok && [direct.status, direct.headers['content-type'], JSON.parse(direct.body.toString()).error]).toEqual([404, 'application/json', 'not_found']);
  });

  it('writes one JSON access-log line per request with the client subject and request time', async () => {
    await get('/log-probe');
    // nginx writes the line in its log phase, after the response has gone out: poll, bounded.
    const readProbeLine = () => readFileSync(join(dir, 'logs', 'access.json.log'), 'utf8').trim().split('\n').reverse().find((line) => line.includes('/log-probe'));
    const line = await waitFor('the /log-probe access-log line', readProbeLine, 5000, 20);
    const entry = JSON.parse(line);
    expect(entry.client_subject).toContain('CN=consumer-direct');
    expect(typeof entry.request_time).toBe('number');
    expect(entry.status).toBe(200);
  });

  it('answers 502 with a JSON body and an interaction id when the app is down, for a dataset read and any other request', async () => {
    await new Promise<void>((resolveClose) => upstream!.close(() => resolveClose()));
    upstream = undefined;
    // /x asks the app first (auth_request), /a/x goes to it directly.
    for (const path of ['/x', '/a/x']) {
      const response = await get(path);
      if (!response.ok) throw new Error(response.error);
      expect({ path, status: response.status }).toEqual({ path, status: 502 });
      expect(response.headers['content-type']).toBe('application/json');
      expect(JSON.parse(response.body.toString())).toEqual(JSON.parse(readFileSync(join(nginxSourceDir(), 'errors', '502.json'), 'utf8')));
      expect(response.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('port 80 of the mTLS site', () => {
  function plainGet(path: string): Promise<{ status: number; location?: string; body: string }> {
    return new Promise((resolveGet, reject) => {
      const req = require('node:http').get({ host: '127.0.0.1', port: httpPort, path, headers: { Host: 'localhost' } }, (res: import('node:http').IncomingMessage) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolveGet({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      });
      req.on('error', reject);
    });
  }

  it('redirects to https', async () => {
    expect(await plainGet('/data?x=1')).toMatchObject({ status: 301, location: `https://localhost:${httpsPort}/data?x=1` });
  });

  it('still serves ACME HTTP-01 challenges for renewals', async () => {
    expect(await plainGet('/.well-known/acme-challenge/tok123')).toMatchObject({ status: 200, body: 'tok123.thumb' });
  });
});
