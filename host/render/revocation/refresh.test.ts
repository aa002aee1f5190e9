/**
 * End to end in a temp folder: a local HTTP server publishes CRLs made by the test
 * PKI, refreshCrls installs them, and openssl judges the installed crl.pem the way a
 * handshake would.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCrl, serialOf } from '../../../testing/pki/crl';
import { createIntermediateCa, createRootCa, issueClientCert } from '../../../testing/pki/index';
import { RevocationError } from './crl';
import { CRL_SET_FILE } from '../../../nginx/revocation';
import { refreshCrls, STATUS_FILE, type RefreshOptions } from './refresh';

const HOUR = 3600_000;
/** What the server answers per path; tests replace entries. */
const published = new Map<string, { status: number; body: string | Buffer }>();
const hits = new Map<string, number>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const answer = published.get(path) ?? { status: 404, body: 'not found' };
    res.writeHead(answer.status, { 'content-type': 'application/pkix-crl' }).end(answer.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

// The root's CRL is found through the intermediate's cRLDistributionPoints, the issuing CA's by configuration.
const root = createRootCa({ subject: { commonName: 'Refresh Root', organization: 'Test' } });
let issuing: ReturnType<typeof createIntermediateCa>;
let dir: string;
let bundlePath: string;

beforeAll(() => {
  issuing = createIntermediateCa(root, { subject: { commonName: 'Refresh Issuing', organization: 'Test' }, crlDistributionPoint: `${base}/root.crl` });
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crl-refresh-'));
  bundlePath = join(dir, 'trust-bundle.pem');
  writeFileSync(bundlePath, root.certPem + issuing.certPem);
  published.clear();
  hits.clear();
  publish('/root.crl', issueCrl(root, { crlNumber: 1 }).der);
  publish('/issuing.crl', issueCrl(issuing, { crlNumber: 10 }).pem);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function publish(path: string, body: string | Buffer, status = 200): void {
  published.set(path, { status, body });
}

function refresh(overrides: Partial<RefreshOptions> = {}) {
  return refreshCrls({
    urls: [`${base}/issuing.crl`],
    fromBundle: true,
    bundlePath,
    dir: join(dir, 'revocation'),
    warnHours: 12,
    timeoutMs: 2000,
    retries: 0,
    fetchOptions: { backoffMs: [1] },
    ...overrides,
  });
}

const installedFile = () => join(dir, 'revocation', CRL_SET_FILE);
const statusFile = () => JSON.parse(readFileSync(join(dir, 'revocation', STATUS_FILE), 'utf8'));

function opensslVerify(clientPem: string): string {
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const args = ['verify', '-crl_check_all', '-CAfile', bundlePath, '-CRLfile', installedFile(), write('client.pem', clientPem)];
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

it('installs the root and intermediate CRLs, and openssl applies the installed file', async () => {
  const revoked = issueClientCert(issuing, { subject: { commonName: 'revoked' } });
  const good = issueClientCert(issuing, { subject: { commonName: 'good' } });
  publish('/issuing.crl', issueCrl(issuing, { crlNumber: 10, revoked: [{ serialNumber: serialOf(revoked.certPem) }] }).pem);
  const now = new Date();

  const result = await refresh({ now });

  expect(result.changed).toBe(true);
  expect(result.logLines).toEqual([
    `crl ${base}/issuing.crl: installed CRL #10 of CN=Refresh Issuing,O=Test (1 revoked, next update ${result.status.crls[1]!.nextUpdate})`,
    `crl ${base}/root.crl: installed CRL #1 of CN=Refresh Root,O=Test (0 revoked, next update ${result.status.crls[0]!.nextUpdate})`,
    expect.stringMatching(/^crl state ok: 2 CRL\(s\), nearest nextUpdate in 1[67]\d(\.\d)? h, crl.pem updated$/),
  ]);
  expect(result.status).toMatchObject({ state: 'ok', lastSuccessAt: now.toISOString(), lastError: null, uncoveredIssuers: [] });
  expect(result.status.crls.map((c) => [c.issuer, c.crlNumber, c.source])).toEqual([
    ['CN=Refresh Root,O=Test', '1', `${base}/root.crl`],
    ['CN=Refresh Issuing,O=Test', '10', `${base}/issuing.crl`],
  ]);
  expect(statusFile()).toEqual(result.status);
  expect(opensslVerify(good.certPem)).toContain('OK');
  expect(opensslVerify(revoked.certPem)).toContain('certificate revoked');
});

it('fetches a URL once when it is both configured and a distribution point', async () => {
  await refresh({ urls: [`${base}/issuing.crl`, `${base}/root.crl`, ` ${base}/issuing.crl `] });
  expect(hits.get('/root.crl')).toBe(1);
  expect(hits.get('/issuing.crl')).toBe(1);
});

it('leaves crl.pem alone when nothing changed', async () => {
  await refresh();
  const before = readFileSync(installedFile());
  const result = await refresh();
  expect(result.changed).toBe(false);
  expect(result.logLines[0]).toBe(`crl ${base}/issuing.crl: unchanged, CRL #10 of CN=Refresh Issuing,O=Test`);
  expect(readFileSync(installedFile()).equals(before)).toBe(true);
  expect(readdirSync(join(dir, 'revocation')).sort()).toEqual([CRL_SET_FILE, STATUS_FILE]); // no temporary file left
});

it('installs a newer CRL over the installed one', async () => {
  await refresh();
  publish('/issuing.crl', issueCrl(issuing, { crlNumber: 11 }).pem);
  const result = await refresh();
  expect(result.changed).toBe(true);
  expect(result.status.crls[1]!.crlNumber).toBe('11');
});

describe('keeps the installed CRLs byte for byte when a source fails', () => {
  const other = createRootCa({ subject: { commonName: 'Other' } });
  const cases: Array<[string, () => void, RegExp]> = [
    ['a 404', () => publish('/issuing.crl', 'gone', 404), /issuing\.crl: unreachable: HTTP 404$/],
    ['garbage', () => publish('/issuing.crl', '<html>maintenance</html>'), /issuing\.crl: not a CRL: neither PEM nor DER \(starts with 0x3c\)$/],
    ['a bad signature', () => publish('/issuing.crl', issueCrl(issuing, { crlNumber: 11, signingKeyPem: other.keyPem }).pem), /issuing\.crl: bad signature: .*$/],
    ['an older CRL', () => publish('/issuing.crl', issueCrl(issuing, { crlNumber: 9 }).pem), /issuing\.crl: older than the installed one \(#10 .*\)$/],
    ['an expired CRL', () => publish('/issuing.crl', issueCrl(issuing, { crlNumber: 11, thisUpdate: new Date(Date.now() - 48 * HOUR), nextUpdate: new Date(Date.now() - HOUR) }).pem), /issuing\.crl: expired at .*$/],
  ];

  it.each(cases)('%s', async (_name, breakSource, reason) => {
    const first = new Date();
    await refresh({ now: first });
    const before = readFileSync(installedFile());
    breakSource();

    const result = await refresh({ now: new Date(first.getTime() + HOUR) });

    expect(result.changed).toBe(false);
    expect(readFileSync(installedFile()).equals(before)).toBe(true);
    expect(result.status).toMatchObject({ state: 'warning', lastSuccessAt: first.toISOString(), lastError: expect.stringMatching(reason) });
    expect(statusFile().lastError).toBe(result.status.lastError);
    expect(result.logLines).toContainEqual(expect.stringMatching(/^crl installed CRL #10 of CN=Refresh Issuing,O=Test: kept: no acceptable newer CRL was fetched$/));
  });

  it('logs a refused CRL as refused and an unreachable source as unreachable', async () => {
    publish('/root.crl', 'garbage');
    publish('/issuing.crl', 'gone', 404);
    const result = await refresh();
    expect(result.logLines.slice(0, 2)).toEqual([`crl ${base}/issuing.crl: unreachable: HTTP 404`, `crl ${base}/root.crl: refused: not a CRL: neither PEM nor DER (starts with 0x67)`]);
  });
});

it('warns when the nearest nextUpdate is within warnHours', async () => {
  publish('/issuing.crl', issueCrl(issuing, { crlNumber: 10, nextUpdate: new Date(Date.now() + 5 * HOUR) }).pem);
  const result = await refresh();
  expect(result.status).toMatchObject({ state: 'warning', lastError: null, hoursToNextUpdate: expect.closeTo(5, 0) });
});

it('reports a CA without a CRL as missing', async () => {
  const result = await refresh({ urls: [], fromBundle: true });
  expect(result.status).toMatchObject({ state: 'missing', uncoveredIssuers: ['CN=Refresh Issuing,O=Test'], lastError: null });
  expect(result.logLines.at(-1)).toMatch(/; no CRL for CN=Refresh Issuing,O=Test$/);
});

it('never writes an empty crl.pem: with nothing to install there is no file', async () => {
  published.clear();
  const result = await refresh();
  expect(existsSync(installedFile())).toBe(false);
  expect(result).toMatchObject({ changed: false, status: { state: 'missing', lastSuccessAt: null } });
});

it('removes crl.pem once no CA of the bundle vouches for its CRLs', async () => {
  await refresh();
  writeFileSync(bundlePath, createRootCa({ subject: { commonName: 'New Root' } }).certPem);
  const result = await refresh({ urls: [], fromBundle: false });
  expect(result.changed).toBe(true);
  expect(existsSync(installedFile())).toBe(false);
  expect(result.logLines).toContainEqual(expect.stringMatching(/^crl installed CRL #10 of CN=Refresh Issuing,O=Test: dropped: no longer vouched for/));
});

it('replaces a damaged crl.pem', async () => {
  await refresh();
  writeFileSync(installedFile(), '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
  const result = await refresh();
  expect(result.changed).toBe(true);
  expect(result.logLines[0]).toMatch(/^crl crl.pem: the installed file was unreadable and is replaced \(not a CRL: /);
  expect(readFileSync(installedFile(), 'utf8').match(/BEGIN X509 CRL/g)).toHaveLength(2);
});

it('counts having no source at all as a failure', async () => {
  writeFileSync(bundlePath, root.certPem);
  const result = await refresh({ urls: [] });
  expect(result.status).toMatchObject({ state: 'missing', lastSuccessAt: null, lastError: 'no CRL source: no URL is configured and the trust bundle names no cRLDistributionPoints' });
});

it('fails clearly without a trust bundle', async () => {
  await expect(refresh({ bundlePath: join(dir, 'nope.pem') })).rejects.toThrow(RevocationError);
  await expect(refresh({ bundlePath: join(dir, 'nope.pem') })).rejects.toThrow(/^cannot read the trust bundle .*nope\.pem: ENOENT/);
});
