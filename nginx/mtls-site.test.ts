/**
 * The rendered mTLS site under a real nginx, with real TLS, in front of a tiny
 * upstream on a UNIX socket that echoes what nginx passed on.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIntermediateCa, createRootCa, issueClientCert, issueServerCert, type IssuedCertificate } from '../tools/pki';
import { waitFor } from '../tools/lib/child-process';
import { freePort } from '../tools/lib/ports';
import { secondLoopbackListen } from '../tools/replica/loopback';
import { mtlsRequest, type MtlsRequestOptions } from '../tools/replica/mtls-request';
import { createNginxPrefix, startNginx, stopNginx } from '../tools/replica/nginx-process';
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
    seenByApp.push(req.headers);
    if (req.url === '/accel') {
      res.writeHead(200, { 'X-Accel-Redirect': '/_datasets/small.csv', 'Content-Type': 'text/csv', 'x-fapi-interaction-id': 'accel-interaction-1' });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolveListen) => upstream!.listen(socket, resolveListen));

  httpsPort = await freePort();
  httpPort = await freePort();
  const prefix = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(dir, 'conf.d', 'provider.conf'),
    renderMtlsSite({
      serverName: 'localhost',
      httpListenV4: `127.0.0.1:${httpPort}`,
      httpListenV6: await secondLoopbackListen(httpPort),
      httpsListenV4: `127.0.0.1:${httpsPort}`,
      httpsListenV6: await secondLoopbackListen(httpsPort),
      httpsOrigin: `https://localhost:${httpsPort}`,
      acmeWebroot: join(dir, 'acme'),
      logDir: join(dir, 'logs'),
      snippetsDir: join(nginxSourceDir(), 'snippets'),
      errorPagesDir: join(nginxSourceDir(), 'errors'),
      sslCertificate: join(dir, 'tls', 'server.crt'),
      sslCertificateKey: join(dir, 'tls', 'server.key'),
      clientCa: join(dir, 'tls', 'client-ca.crt'),
      publicRoot: join(dir, 'public'),
      appSocket: socket,
      datasetsDir: join(dir, 'data'),
    }),
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

  it('refuses a request without a client certificate, with a JSON body, before the app', async () => {
    const before = seenByApp.length;
    const response = await get('/x', { cert: undefined, key: undefined });
    expect(response.ok && response.status).toBe(400);
    expect(response.ok && JSON.parse(response.body.toString()).error).toBe('invalid_client');
    expect(seenByApp.length).toBe(before);
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
    expect(direct.ok && direct.status).not.toBe(200);
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

  it('answers 502 with a JSON body when the app is down', async () => {
    await new Promise<void>((resolveClose) => upstream!.close(() => resolveClose()));
    upstream = undefined;
    const response = await get('/x');
    expect(response.ok && response.status).toBe(502);
    expect(response.ok && JSON.parse(response.body.toString()).error).toBe('temporarily_unavailable');
    expect(response.ok && response.headers['content-type']).toBe('application/json');
    expect(response.ok && JSON.parse(response.body.toString())).toEqual(JSON.parse(readFileSync(join(nginxSourceDir(), 'errors', '502.json'), 'utf8')));
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
