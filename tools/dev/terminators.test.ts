import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readText, httpsRequest } from '../client/https-request';
import { createDevSet, type DevSet } from '../../testing/pki/dev-set';
import { findNginx, startNginxTerminator } from './nginx-terminator';
import { CLIENT_CERT_HEADER, startNodeTerminator } from './node-terminator';
import type { Terminator, TerminatorOptions } from './terminator';
import { issueClientCert } from '../../testing/pki';
import { issueCrl, serialOf } from '../../testing/pki/crl';
import { writeFileSync } from 'node:fs';

// GIVEN an upstream on a UNIX socket that echoes the headers it receives, and a dev PKI
const work = mkdtempSync(join(tmpdir(), 'terminators-'));
const socket = join(work, 'echo.sock');
let pki: DevSet;
let echo: Server;
const running: Terminator[] = [];

const nginxBin = findNginx();
if (!nginxBin) throw new Error('nginx is not installed: these tests compare the Node terminator with real nginx (apt-get install nginx)');

function options(name: string): TerminatorOptions {
  return {
    listenHost: '127.0.0.1',
    port: 0,
    serverCertFile: join(pki.dir, 'server.chain.crt'),
    serverKeyFile: join(pki.dir, 'server.key'),
    clientCaFile: pki.files.caBundle!,
    appSocket: socket,
    datasetsDir: resolve(__dirname, '..', '..', 'sample-data'),
    errorPagesDir: resolve(__dirname, '..', '..', 'nginx', 'errors'),
    workDir: join(work, name),
    crlFile: join(work, 'crl.pem'),
  };
}

/** A consumer of the dev PKI whose certificate its issuing CA has revoked (in both terminators' CRLs). */
let revoked: { certPem: string; keyPem: string };

beforeAll(async () => {
  pki = createDevSet(join(work, 'pki'));
  revoked = issueClientCert(pki.intermediateCa, { subject: { commonName: 'revoked-consumer' } });
  writeFileSync(join(work, 'crl.pem'), issueCrl(pki.rootCa, { crlNumber: 1 }).pem + issueCrl(pki.intermediateCa, { crlNumber: 1, revoked: [{ serialNumber: serialOf(revoked.certPem) }] }).pem);
  echo = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  await new Promise<void>((done) => echo.listen(socket, done));
  running.push(await startNginxTerminator(options('nginx'), nginxBin));
  running.push(await startNodeTerminator(options('node')));
}, 30_000);

afterAll(async () => {
  await Promise.all(running.map((t) => t.stop()));
  if (echo.listening) await new Promise((done) => echo.close(done));
  rmSync(work, { recursive: true, force: true });
});

const ca = () => readFileSync(pki.files.caBundle!, 'utf8');
const consumer = () => ({ cert: pki.consumer.certPem, key: pki.consumer.keyPem, ca: ca() });

async function get(t: Terminator, tls: { cert?: string; key?: string; ca: string }, headers: Record<string, string> = {}, path = '/datasets'): Promise<{ status: number; body: string }> {
  const res = await httpsRequest({ url: `https://localhost:${t.port}${path}`, tls, headers });
  return { status: res.status, body: await readText(res.body) };
}

describe('the Node terminator behaves like the nginx site in front of the app', () => {
  it('passes the verified client certificate in X-OE-CLIENT-CERT, byte for byte like nginx, replacing a forged one', async () => {
    const [viaNginx, viaNode] = await Promise.all(
      running.map(async (t) => {
        const { status, body } = await get(t, consumer(), { [CLIENT_CERT_HEADER]: 'forged' });
        expect(status).toBe(200);
        return JSON.parse(body) as Record<string, string>;
      }),
    );
    expect(viaNode![CLIENT_CERT_HEADER]).toBe(viaNginx![CLIENT_CERT_HEADER]);
    const pem = decodeURIComponent(viaNode![CLIENT_CERT_HEADER]!);
    expect(new X509Certificate(pem).fingerprint256).toBe(new X509Certificate(pki.consumer.certPem).fingerprint256);
    for (const name of ['x-forwarded-proto', 'x-forwarded-for']) expect(viaNode![name]).toBe(viaNginx![name]);
  });

  it('checks the CAs\' CRLs like the host: a revoked consumer gets 400 and the same revoked page, another is served', async () => {
    const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, { cert: revoked.certPem, key: revoked.keyPem, ca: ca() })));
    expect(viaNginx!.status).toBe(400);
    expect(JSON.parse(viaNginx!.body).error_description).toMatch(/revoked/);
    expect(viaNode).toEqual(viaNginx);
    for (const t of running) expect((await get(t, consumer())).status).toBe(200);
  });

  it('answers /ping without a client certificate (the outside-in health check), with no client certificate header', async () => {
    const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, { ca: ca() }, { [CLIENT_CERT_HEADER]: 'forged' }, '/ping')));
    for (const via of [viaNginx!, viaNode!]) {
      expect(via.status).toBe(200);
      expect(JSON.parse(via.body)[CLIENT_CERT_HEADER]).toBeUndefined();
    }
  });

  it('answers 400 with the same JSON page when no client certificate is sent', async () => {
    const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, { ca: ca() })));
    expect(viaNginx!.status).toBe(400);
    expect(viaNode).toEqual(viaNginx);
    expect(JSON.parse(viaNode!.body)).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 400 to a client certificate from a CA outside the bundle', async () => {
    const stranger = createDevSet(join(work, 'stranger-pki'), { organization: 'Stranger' });
    const tls = { cert: stranger.consumer.certPem, key: stranger.consumer.keyPem, ca: ca() };
    const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, tls)));
    expect(viaNginx!.status).toBe(400);
    expect(viaNode).toEqual(viaNginx);
  });

  it('answers 404 with the same JSON page for the internal paths (the app is not asked)', async () => {
    for (const path of ['/.provider/authz', '/.provider/%61uthz?x=1', '/_datasets/carbon-intensity.csv', '/_errors/502.json']) {
      const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, consumer(), {}, path)));
      expect({ path, status: viaNginx!.status }).toEqual({ path, status: 404 });
      expect({ path, ...viaNode }).toEqual({ path, ...viaNginx });
      expect(JSON.parse(viaNode!.body)).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers 502 with the same JSON page when the app is down', async () => {
    await new Promise((done) => echo.close(done));
    const [viaNginx, viaNode] = await Promise.all(running.map((t) => get(t, consumer())));
    expect(viaNginx!.status).toBe(502);
    expect(viaNode).toEqual(viaNginx);
    expect(JSON.parse(viaNode!.body)).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
