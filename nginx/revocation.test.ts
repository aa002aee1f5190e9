/**
 * Revocation in the mTLS site, tried against a real nginx with real TLS, CRLs made by
 * the test CA, and the production template, snippets, error pages and revocation files
 * (nginx/revocation.ts):
 * - fail closed: revocation on and no CRL yet refuses every client, saying why;
 * - a leaf revoked by its issuing (intermediate) CA's CRL is refused, another served;
 *   an intermediate revoked by the root's CRL takes its leaves with it; an expired CRL
 *   refuses that CA's clients;
 * - the deny list, by issuer + serial exactly as the access log prints them and by
 *   fingerprint: refused on a reload, served again after removal;
 * - no way around it by resuming a TLS session: a session resumed across a reload that
 *   changes only the deny list is still refused (the maps are per request); a new CRL
 *   set empties the session cache, so a revoked client's session does not resume;
 * - reloads under traffic fail no request.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { EMPTY_DENY_LIST, type DenyEntry } from '../contract/deny-list';
import { sleep, waitFor } from '../lib/child-process';
import { freePort } from '../lib/ports';
import { createIntermediateCa, createRootCa, issueClientCert, issueServerCert, type CertificateAuthority, type IssuedCertificate } from '../testing/pki';
import { issueCrl, serialOf } from '../testing/pki/crl';
import { testSiteValues } from '../testing/nginx-test-site';
import { createNginxPrefix, reloadNginx, startNginx, stopNginx, testNginxConfig, type NginxPrefix } from '../testing/replica/nginx-process';
import { CRL_SET_FILE, writeRevocationNginxFiles, type RevocationNginxState } from './revocation';
import { nginxSourceDir, renderMtlsSite } from './sites';

const errorBody = (name: string): unknown => JSON.parse(readFileSync(join(nginxSourceDir(), 'errors', `${name}.json`), 'utf8'));

let dir: string;
let revocationDir: string;
let nginx: NginxPrefix;
let nginxPid: number;
let app: Server;
let httpsPort: number;
let server: IssuedCertificate & { caPem: string };
let root: CertificateAuthority;
let issuer: CertificateAuthority;
const client: Record<'good' | 'revoked' | 'byIssuer' | 'byFingerprint' | 'direct' | 'resumer', IssuedCertificate> = {} as never;
let crlNumber = 1;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly reused: boolean;
  readonly session?: Buffer;
}

/** One HTTP/1.1 request over a TLS connection of our own, optionally resuming `session`. */
function request(cert: IssuedCertificate, options: { session?: Buffer; path?: string } = {}): Promise<Answer | { error: string }> {
  return new Promise((resolveAnswer) => {
    let session: Buffer | undefined;
    let reused = false;
    let text = '';
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port: httpsPort,
      servername: 'localhost',
      ca: server.caPem,
      cert: cert.chainPem,
      key: cert.keyPem,
      session: options.session,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(10000, () => socket.destroy(new Error('timed out')));
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write(`GET ${options.path ?? '/ping'} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer tok\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', (error) => resolveAnswer({ error: error.message }));
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      if (status === 0) return resolveAnswer({ error: `no HTTP answer (${text.slice(0, 80)})` });
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // not JSON: kept as text
      }
      resolveAnswer({ status, body: parsed, reused, ...(session ? { session } : {}) });
    });
  });
}

async function answer(cert: IssuedCertificate, options: { session?: Buffer; path?: string } = {}): Promise<Answer> {
  const result = await request(cert, options);
  if ('error' in result) throw new Error(result.error);
  return result;
}

function writeCrlSet(crls: readonly string[]): void {
  writeFileSync(join(revocationDir, CRL_SET_FILE), crls.join(''));
}

/** Renders the revocation files for `state` and reloads nginx (as the host's revocation_apply does). */
async function apply(state: Omit<RevocationNginxState, 'crlFile'> & { crl: boolean }): Promise<void> {
  writeRevocationNginxFiles(revocationDir, {
    checkCrls: state.checkCrls,
    denyList: state.denyList,
    ...(state.crl ? { crlFile: join(revocationDir, CRL_SET_FILE), crlGeneration: state.crlGeneration } : {}),
  });
  testNginxConfig(nginx);
  await reloadNginx(nginx, nginxPid);
}

/** Waits until `cert` gets `status` on a new connection (a reload takes effect within moments). */
function settles(cert: IssuedCertificate, status: number): Promise<Answer> {
  return waitFor(`${status} for a new connection`, async () => {
    const result = await request(cert);
    return 'status' in result && result.status === status ? result : undefined;
  }, 10000, 100);
}

const crls = (revokedLeaves: string[] = [], revokedIssuers: string[] = [], nextUpdate?: Date): string[] => {
  crlNumber += 1;
  return [
    issueCrl(root, { crlNumber, revoked: revokedIssuers.map((serialNumber) => ({ serialNumber })) }).pem,
    issueCrl(issuer, { crlNumber, revoked: revokedLeaves.map((serialNumber) => ({ serialNumber })), ...(nextUpdate ? { nextUpdate } : {}) }).pem,
  ];
};

const accessLines = (): Record<string, unknown>[] =>
  readFileSync(join(dir, 'logs', 'access.json.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nginx-revocation-'));
  for (const sub of ['tls', 'public', 'data', 'acme', 'logs', 'run']) mkdirSync(join(dir, sub), { recursive: true });
  const serverCa = createRootCa({ subject: { commonName: 'Revocation Test Server CA' } });
  server = { ...issueServerCert(serverCa, { commonName: 'localhost', dnsNames: ['localhost'] }), caPem: serverCa.certPem };
  // The trust framework: root -> issuing CA -> leaves, plus a leaf straight under the root.
  // An organisation with a comma and a plus: the access log's RFC 2253 escapes both.
  root = createRootCa({ subject: { commonName: 'Revocation Root CA', organization: 'Trust, Framework+Test' } });
  issuer = createIntermediateCa(root, { subject: { commonName: 'Revocation Issuer CA', organization: 'Trust, Framework+Test' } });
  for (const name of ['good', 'revoked', 'byIssuer', 'byFingerprint', 'resumer'] as const) {
    client[name] = issueClientCert(issuer, { subject: { commonName: `consumer-${name}` } });
  }
  client.direct = issueClientCert(root, { subject: { commonName: 'consumer-direct' } });
  writeFileSync(join(dir, 'tls', 'server.crt'), server.chainPem);
  writeFileSync(join(dir, 'tls', 'server.key'), server.keyPem);
  writeFileSync(join(dir, 'tls', 'trust-bundle.pem'), root.certPem + issuer.certPem);

  const socket = join(dir, 'run', 'app.sock');
  app = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolveListen) => app.listen(socket, resolveListen));
  httpsPort = await freePort();
  revocationDir = join(dir, 'revocation');
  nginx = createNginxPrefix(join(dir, 'nginx'), join(dir, 'conf.d'));
  writeFileSync(
    join(nginx.confDir, 'provider.conf'),
    renderMtlsSite(
      await testSiteValues(dir, { https: httpsPort, http: await freePort() }, socket, {
        clientCa: join(dir, 'tls', 'trust-bundle.pem'),
        // Revocation on, no CRL yet: how the host starts when the CRL endpoint is down.
        revocationDir: writeRevocationNginxFiles(revocationDir, { checkCrls: true, denyList: EMPTY_DENY_LIST }),
      }),
    ),
  );
  nginxPid = startNginx(nginx);
}, 60000);

afterAll(async () => {
  if (nginxPid) await stopNginx(nginxPid);
  await new Promise<void>((resolveClose) => (app ? app.close(() => resolveClose()) : resolveClose()));
  rmSync(dir, { recursive: true, force: true });
});

describe('revocation in the mTLS site (real nginx)', () => {
  it('fails closed: with revocation on and no CRL installed, every client is refused with a 400 saying revocation cannot be checked', async () => {
    const refused = await answer(client.good);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual(errorBody('revocation-unavailable'));
  });

  it('refuses a leaf its issuing CA revoked, serves the others, and logs the serial and issuer of each request', async () => {
    writeCrlSet(crls([serialOf(client.revoked.certPem)]));
    await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
    await settles(client.good, 200);
    expect((await answer(client.direct)).status).toBe(200);
    const revoked = await answer(client.revoked);
    expect(revoked.status).toBe(400);
    expect(revoked.body).toEqual(errorBody('certificate-revoked'));
    const lines = accessLines();
    const good = lines.filter((l) => l.client_subject === 'CN=consumer-good' && l.status === 200).pop()!;
    expect(good.client_serial).toBe(serialOf(client.good.certPem));
    expect(good.client_issuer).toBe('CN=Revocation Issuer CA,O=Trust\\, Framework\\+Test');
    expect(lines.filter((l) => l.client_serial === serialOf(client.revoked.certPem)).pop()).toMatchObject({ status: 400, client_verify: 'FAILED:certificate revoked' });
  });

  it('an intermediate revoked by the root takes its leaves with it; a CRL past its nextUpdate refuses its CA\'s clients', async () => {
    writeCrlSet(crls([], [serialOf(issuer.certPem)]));
    await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
    const refused = await settles(client.good, 400);
    expect(refused.body).toEqual(errorBody('certificate-revoked'));
    expect((await answer(client.direct)).status).toBe(200);

    // The issuing CA's CRL expires in 2 s: its leaves are served until then, refused after.
    writeCrlSet(crls([], [], new Date(Date.now() + 2000)));
    await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
    await settles(client.good, 200);
    await sleep(2500);
    const expired = await answer(client.good);
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual(errorBody('revocation-unavailable'));
    expect(accessLines().pop()).toMatchObject({ client_verify: 'FAILED:CRL has expired' });
    expect((await answer(client.direct)).status).toBe(200);

    writeCrlSet(crls());
    await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
    await settles(client.good, 200);
  });

  it('the deny list refuses by issuer + serial as the access log prints them and by fingerprint, and serves again once they are removed', async () => {
    for (const name of ['byIssuer', 'byFingerprint'] as const) expect((await answer(client[name])).status).toBe(200);
    const logged = accessLines().filter((l) => l.client_subject === 'CN=consumer-byIssuer').pop()!;
    const fingerprint = spawnSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1'], { input: client.byFingerprint.certPem, encoding: 'utf8' }).stdout.split('=')[1]!.trim();
    const addedAt = new Date().toISOString();
    const entries: DenyEntry[] = [
      { issuer: String(logged.client_issuer), serial: String(logged.client_serial), addedAt },
      { sha1Fingerprint: fingerprint.replace(/:/g, '').toLowerCase(), addedAt },
    ];
    const generation = `g${crlNumber}`;
    await apply({ checkCrls: true, crl: true, crlGeneration: generation, denyList: { version: 1, entries } });
    const denied = await settles(client.byIssuer, 400);
    expect(denied.body).toEqual(errorBody('certificate-revoked'));
    const byFingerprint = await answer(client.byFingerprint);
    expect(byFingerprint.status).toBe(400);
    expect(byFingerprint.body).toEqual(errorBody('certificate-revoked'));
    expect((await answer(client.good)).status).toBe(200);

    await apply({ checkCrls: true, crl: true, crlGeneration: generation, denyList: EMPTY_DENY_LIST });
    await settles(client.byIssuer, 200);
    expect((await answer(client.byFingerprint)).status).toBe(200);
  });

  it('a resumed TLS session is no way around it: the deny list holds on a resumed session, and a new CRL set ends the sessions', async () => {
    const generation = `g${crlNumber}`;
    const first = await answer(client.resumer);
    expect(first.status).toBe(200);
    expect(first.session).toBeDefined();
    // Control: the session resumes across a reload that keeps the CRL set (the test can see a resumption).
    const addedAt = new Date().toISOString();
    await apply({ checkCrls: true, crl: true, crlGeneration: generation, denyList: { version: 1, entries: [{ issuer: 'CN=Revocation Issuer CA,O=Trust\\, Framework\\+Test', serial: serialOf(client.resumer.certPem), addedAt }] } });
    await settles(client.resumer, 400);
    const resumedDenied = await answer(client.resumer, { session: first.session });
    expect(resumedDenied.reused).toBe(true);
    expect(resumedDenied.status).toBe(400);
    expect(resumedDenied.body).toEqual(errorBody('certificate-revoked'));

    // Off the deny list, a fresh session; then the CA revokes it: a new CRL set, and the session does not resume.
    await apply({ checkCrls: true, crl: true, crlGeneration: generation, denyList: EMPTY_DENY_LIST });
    const fresh = await settles(client.resumer, 200);
    const again = await answer(client.resumer, { session: fresh.session });
    expect(again).toMatchObject({ status: 200, reused: true });
    writeCrlSet(crls([serialOf(client.resumer.certPem)]));
    await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
    await settles(client.resumer, 400);
    const resumedRevoked = await answer(client.resumer, { session: fresh.session });
    expect(resumedRevoked.reused).toBe(false);
    expect(resumedRevoked.status).toBe(400);
    expect(resumedRevoked.body).toEqual(errorBody('certificate-revoked'));
    expect((await answer(client.good)).status).toBe(200);
  });

  it('reloading the revocation files under traffic fails no request', async () => {
    let stop = false;
    const outcomes: string[] = [];
    const traffic = (async () => {
      while (!stop && outcomes.length < 5000) {
        const result = await request(client.good);
        outcomes.push('status' in result ? String(result.status) : result.error);
      }
    })();
    for (let i = 0; i < 5; i += 1) {
      writeCrlSet(crls());
      await apply({ checkCrls: true, crl: true, crlGeneration: `g${crlNumber}`, denyList: EMPTY_DENY_LIST });
      await sleep(300);
    }
    stop = true;
    await traffic;
    expect(outcomes.length).toBeGreaterThan(20);
    expect(outcomes.filter((o) => o !== '200')).toEqual([]);
  }, 60000);
});
