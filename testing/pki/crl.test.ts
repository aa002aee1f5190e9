/**
 * The test CRLs are judged by OpenSSL itself, the library nginx checks them with:
 * `openssl crl` for the signature and `openssl verify -crl_check(_all)` for what a
 * handshake would decide.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCrl, serialOf } from './crl';
import { createIntermediateCa, createRootCa, issueClientCert, type CertificateAuthority } from './index';

const root = createRootCa({ subject: { commonName: 'CRL Test Root', organization: 'Test' } });
const intermediate = createIntermediateCa(root, { subject: { commonName: 'CRL Test Issuing', organization: 'Test' } });
const rootClient = issueClientCert(root, { subject: { commonName: 'root-client' } });
const revokedClient = issueClientCert(intermediate, { subject: { commonName: 'revoked' } });
const goodClient = issueClientCert(intermediate, { subject: { commonName: 'good' } });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pki-crl-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a file named `name` in the test folder and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function openssl(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function verifyClient(clientPem: string, caPems: string[], crlPems: string[], flag = '-crl_check_all'): { status: number | null; output: string } {
  return openssl('verify', flag, '-CAfile', file('cas.pem', caPems.join('')), '-CRLfile', file('crls.pem', crlPems.join('')), file('client.pem', clientPem));
}

describe('issueCrl', () => {
  it('signs a CRL that openssl verifies with the CA certificate', () => {
    const crl = issueCrl(root, { crlNumber: 1 });
    const result = openssl('crl', '-in', file('root.crl', crl.pem), '-CAfile', file('root.pem', root.certPem), '-noout');
    expect(result.output).toContain('verify OK');
    expect(result.status).toBe(0);
  });

  it('is a v2 CRL with the CRL Number, the CA key as Authority Key Identifier, and the revoked serials with their reason', () => {
    const crl = issueCrl(intermediate, { crlNumber: 12, revoked: [{ serialNumber: serialOf(revokedClient.certPem), reason: 'keyCompromise' }] });
    const text = openssl('crl', '-in', file('text.crl', crl.pem), '-noout', '-text').output;
    const ski = openssl('x509', '-in', file('intermediate.pem', intermediate.certPem), '-noout', '-ext', 'subjectKeyIdentifier').output.split('\n')[1]!.trim();
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toMatch(/X509v3 CRL Number: *\n *12\n/);
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier: *\\n *(keyid:)?${ski}`));
    expect(text).toContain(`Serial Number: ${serialOf(revokedClient.certPem)}`);
    expect(text).toContain('Key Compromise');
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
  });

  it('is DER underneath the PEM', () => {
    const crl = issueCrl(root, { crlNumber: 2 });
    expect(crl.pem).toContain('-----BEGIN X509 CRL-----');
    expect(Buffer.from(crl.pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').equals(crl.der)).toBe(true);
  });

  it('defaults thisUpdate to a minute ago and nextUpdate to seven days ahead', () => {
    const before = Date.now();
    const crl = issueCrl(root, { crlNumber: 3 });
    const dates = openssl('crl', '-in', file('dates.crl', crl.pem), '-noout', '-lastupdate', '-nextupdate').output;
    const lastUpdate = Date.parse(/lastUpdate=(.*)/.exec(dates)![1]!);
    const nextUpdate = Date.parse(/nextUpdate=(.*)/.exec(dates)![1]!);
    expect(Math.abs(lastUpdate - (before - 60_000))).toBeLessThan(5_000);
    expect(Math.abs(nextUpdate - (before + 7 * 86_400_000))).toBeLessThan(5_000);
  });

  it('writes dates from 2050 on as GeneralizedTime, which openssl still reads', () => {
    const crl = issueCrl(root, { crlNumber: 4, nextUpdate: new Date('2051-02-03T04:05:06Z') });
    expect(openssl('crl', '-in', file('far.crl', crl.pem), '-noout', '-nextupdate').output).toContain('nextUpdate=Feb  3 04:05:06 2051 GMT');
  });

  it('signed with another key, fails openssl verification', () => {
    const other = createRootCa({ subject: { commonName: 'Other' } });
    const crl = issueCrl(root, { crlNumber: 5, signingKeyPem: other.keyPem });
    const result = openssl('crl', '-in', file('bad.crl', crl.pem), '-CAfile', file('root.pem', root.certPem), '-noout');
    // `openssl crl` (3.0) prints the failure but still exits 0: the text is the verdict.
    expect(result.output).toContain('verify failure');
    expect(result.output).not.toContain('verify OK');
    const handshake = verifyClient(rootClient.certPem, [root.certPem], [crl.pem], '-crl_check');
    expect(handshake.output).toContain('CRL signature failure');
    expect(handshake.status).not.toBe(0);
  });

  it('refuses a CRL number that is not a non-negative integer', () => {
    expect(() => issueCrl(root, { crlNumber: -1 })).toThrow(/crlNumber must be a non-negative integer/);
    expect(() => issueCrl(root, { crlNumber: 1.5 })).toThrow(/crlNumber must be a non-negative integer/);
  });
});

describe('serialOf', () => {
  it('prints the serial as openssl does', () => {
    const printed = openssl('x509', '-in', file('serial.pem', goodClient.certPem), '-noout', '-serial').output.trim();
    expect(`serial=${serialOf(goodClient.certPem)}`).toBe(printed);
  });
});

describe('openssl verify -crl_check against these CRLs', () => {
  it('root → client: refuses the revoked client and accepts another', () => {
    const other = issueClientCert(root, { subject: { commonName: 'other' } });
    const crl = issueCrl(root, { crlNumber: 1, revoked: [{ serialNumber: serialOf(rootClient.certPem) }] }).pem;
    const refused = verifyClient(rootClient.certPem, [root.certPem], [crl], '-crl_check');
    expect(refused.output).toContain('certificate revoked');
    expect(refused.status).not.toBe(0);
    expect(verifyClient(other.certPem, [root.certPem], [crl], '-crl_check')).toMatchObject({ status: 0 });
  });

  it('root → intermediate → client with -crl_check_all: both CRLs needed, the revoked client refused', () => {
    const rootCrl = issueCrl(root, { crlNumber: 1 }).pem;
    const intermediateCrl = issueCrl(intermediate, { crlNumber: 1, revoked: [{ serialNumber: serialOf(revokedClient.certPem), reason: 'superseded' }] }).pem;
    const cas = [root.certPem, intermediate.certPem];

    expect(verifyClient(goodClient.certPem, cas, [rootCrl, intermediateCrl])).toMatchObject({ status: 0 });
    const revoked = verifyClient(revokedClient.certPem, cas, [rootCrl, intermediateCrl]);
    expect(revoked.output).toContain('certificate revoked');
    expect(revoked.status).not.toBe(0);

    const withoutRootCrl = verifyClient(goodClient.certPem, cas, [intermediateCrl]);
    expect(withoutRootCrl.output).toContain('unable to get certificate CRL');
    expect(withoutRootCrl.status).not.toBe(0);
  });

  it('a root CRL revoking the intermediate refuses every client below it', () => {
    const rootCrl = issueCrl(root, { crlNumber: 2, revoked: [{ serialNumber: serialOf(intermediate.certPem), reason: 'cACompromise' }] }).pem;
    const intermediateCrl = issueCrl(intermediate, { crlNumber: 1 }).pem;
    const result = verifyClient(goodClient.certPem, [root.certPem, intermediate.certPem], [rootCrl, intermediateCrl]);
    expect(result.output).toMatch(/error 23 at 1 depth lookup: certificate revoked/);
  });

  it('an ECDSA P-256 CA: the CRL is signed ecdsa-with-SHA256 and openssl applies it', () => {
    const key = join(dir, 'ec-ca.key');
    const cert = join(dir, 'ec-ca.pem');
    expect(openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=EC Root', '-days', '2')).toMatchObject({ status: 0 });
    const ecCa: CertificateAuthority = { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), chainPem: '', subject: { commonName: 'EC Root' } };
    const clientKey = join(dir, 'ec-client.key');
    const csr = join(dir, 'ec-client.csr');
    const clientCert = join(dir, 'ec-client.pem');
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', clientKey, '-out', csr, '-subj', '/CN=ec-client');
    expect(openssl('x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-set_serial', '0x00C0FFEE', '-days', '1', '-out', clientCert)).toMatchObject({ status: 0 });
    const clientPem = readFileSync(clientCert, 'utf8');
    expect(serialOf(clientPem)).toBe('C0FFEE');

    const crl = issueCrl(ecCa, { crlNumber: 7, revoked: [{ serialNumber: serialOf(clientPem) }] });
    const checked = openssl('crl', '-in', file('ec.crl', crl.pem), '-CAfile', cert, '-noout', '-text');
    expect(checked.output).toContain('verify OK');
    expect(checked.output).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(verifyClient(clientPem, [ecCa.certPem], [crl.pem], '-crl_check').output).toContain('certificate revoked');
    expect(verifyClient(clientPem, [ecCa.certPem], [issueCrl(ecCa, { crlNumber: 8 }).pem], '-crl_check')).toMatchObject({ status: 0 });
  });
});

describe('crlDistributionPoint option', () => {
  it('puts the URL in the CA and client certificates as a cRLDistributionPoints URI', () => {
    const ca = createIntermediateCa(root, { subject: { commonName: 'With CDP' }, crlDistributionPoint: 'http://crl.example.test/root.crl' });
    const client = issueClientCert(ca, { subject: { commonName: 'c' }, crlDistributionPoint: 'http://crl.example.test/issuing.crl' });
    const ext = (pem: string) => openssl('x509', '-in', file('cdp.pem', pem), '-noout', '-ext', 'crlDistributionPoints').output;
    expect(ext(ca.certPem)).toContain('URI:http://crl.example.test/root.crl');
    expect(ext(client.certPem)).toContain('URI:http://crl.example.test/issuing.crl');
    expect(ext(goodClient.certPem)).not.toContain('URI:');
  });
});
