import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import forge from 'node-forge';
import { issueCrl, serialOf } from '../../../testing/pki/crl';
import { createIntermediateCa, createRootCa, issueClientCert, type CertificateAuthority } from '../../../testing/pki/index';
import { bundleCertificates, crlDistributionPoints, normalizeSerial, parseCrl, parseCrlPems, RevocationError, verifyCrl } from './crl';

const root = createRootCa({ subject: { commonName: 'Verify Root', organization: 'Test' } });
const issuing = createIntermediateCa(root, { subject: { commonName: 'Verify Issuing', organization: 'Test' }, crlDistributionPoint: 'http://crl.test/root.crl' });
const client = issueClientCert(issuing, { subject: { commonName: 'client' }, crlDistributionPoint: 'http://crl.test/issuing.crl' });
const bundle = `# a trust bundle may carry comments\n${root.certPem}\n${issuing.certPem}`;
const now = new Date();
const HOUR = 3600_000;

function skiOf(ca: CertificateAuthority): string {
  const ext = forge.pki.certificateFromPem(ca.certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
  return ext.subjectKeyIdentifier.toUpperCase();
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RevocationError);
    return (error as Error).message;
  }
  throw new Error('expected a RevocationError');
}

/** A CA made by openssl: ECDSA P-256, with extra `openssl req -addext` arguments. */
function opensslEcCa(name: string, addext: string[] = []): CertificateAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'crl-ec-'));
  try {
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-subj', `/CN=${name}`, '-days', '2'];
    const result = spawnSync('openssl', [...args, ...addext.flatMap((e) => ['-addext', e])], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
    return { certPem: readFileSync(join(dir, 'c'), 'utf8'), keyPem: readFileSync(join(dir, 'k'), 'utf8'), chainPem: '', subject: { commonName: name } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A CRL from @peculiar/x509's own generator, for extensions the test PKI does not write. */
async function generatedCrl(ca: CertificateAuthority, extensions: x509.Extension[]): Promise<string> {
  const der = Buffer.from(ca.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  const crl = await x509.X509CrlGenerator.create(
    { issuer: new x509.X509Certificate(ca.certPem).subjectName, thisUpdate: new Date(now.getTime() - HOUR), nextUpdate: new Date(now.getTime() + 24 * HOUR), signingAlgorithm: algorithm, signingKey, extensions },
    webcrypto as never, // Node 18 has no global crypto; the host code never needs one
  );
  return crl.toString('pem');
}

describe('parseCrl', () => {
  const issued = issueCrl(issuing, {
    crlNumber: 12,
    thisUpdate: new Date('2030-01-02T03:04:05Z'),
    nextUpdate: new Date('2030-01-09T03:04:05Z'),
    revoked: [{ serialNumber: serialOf(client.certPem) }, { serialNumber: '00ff01' }, { serialNumber: '0A' }],
  });

  it('reads issuer (RFC 4514), number, dates, serials (as nginx prints them) and key identifier', () => {
    const crl = parseCrl(issued.pem);
    expect(crl.issuer).toBe('CN=Verify Issuing,O=Test');
    expect(crl.crlNumber).toBe(12n);
    expect(crl.thisUpdate.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    expect(crl.nextUpdate?.toISOString()).toBe('2030-01-09T03:04:05.000Z');
    expect(crl.revokedSerials).toEqual([serialOf(client.certPem), 'FF01', '0A']);
    expect(crl.authorityKeyId).toBe(skiOf(issuing));
    expect(crl.der.equals(issued.der)).toBe(true);
    expect(crl.pem).toBe(issued.pem);
  });

  it('reads DER, and PEM handed over as bytes, to the same CRL', () => {
    expect(parseCrl(issued.der).sha256).toBe(parseCrl(issued.pem).sha256);
    expect(parseCrl(Buffer.from(`Certificate Revocation List (CRL):\n    Version 2\n${issued.pem}`)).sha256).toBe(parseCrl(issued.pem).sha256);
  });

  it('reads a CRL from another generator (@peculiar/x509) the same way', async () => {
    const crl = parseCrl(await generatedCrl(issuing, [new x509.Extension('2.5.29.20', false, Buffer.from('02020100', 'hex'))]));
    expect(crl.issuer).toBe('CN=Verify Issuing,O=Test');
    expect(crl.crlNumber).toBe(256n);
    expect(verifyCrl(crl, bundle, now).issuerSubject).toBe('CN=Verify Issuing,O=Test');
  });

  it('accepts the "CRL" PEM label some tools write, and gives back the "X509 CRL" one OpenSSL reads', async () => {
    const pem = await generatedCrl(issuing, []);
    expect(pem).toContain('-----BEGIN CRL-----');
    expect(parseCrl(pem).pem).toMatch(/^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n$/);
  });

  it('names the problem with anything that is not one CRL', () => {
    expect(refusal(() => parseCrl('hello'))).toBe('not a CRL: no -----BEGIN X509 CRL----- block');
    expect(refusal(() => parseCrl(Buffer.from('aGVsbG8gd29ybGQ=')))).toMatch(/^not a CRL: neither PEM nor DER \(starts with 0x61\)/);
    expect(refusal(() => parseCrl(new Uint8Array()))).toMatch(/^not a CRL: neither PEM nor DER/);
    expect(refusal(() => parseCrl(root.certPem))).toMatch(/^not a CRL: no -----BEGIN X509 CRL/);
    const certDer = Buffer.from(root.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(refusal(() => parseCrl(certDer))).toMatch(/^not a CRL: /);
    expect(refusal(() => parseCrl(issued.der.subarray(0, 100)))).toBe('not a CRL: truncated DER');
    expect(refusal(() => parseCrl(Buffer.concat([issued.der, Buffer.from([0])])))).toBe('not a CRL: 1 bytes after the DER');
    expect(refusal(() => parseCrl(issued.pem + issued.pem))).toBe('expected one CRL, found 2 PEM blocks');
  });
});

describe('parseCrlPems', () => {
  it('reads every CRL of a concatenated file, in order', () => {
    const a = issueCrl(root, { crlNumber: 1 });
    const b = issueCrl(issuing, { crlNumber: 2 });
    expect(parseCrlPems(a.pem + b.pem).map((crl) => crl.issuer)).toEqual(['CN=Verify Root,O=Test', 'CN=Verify Issuing,O=Test']);
    expect(parseCrlPems('')).toEqual([]);
  });
});

describe('normalizeSerial', () => {
  it('gives whole bytes in uppercase without leading zero bytes', () => {
    expect(normalizeSerial('00ff01')).toBe('FF01');
    expect(normalizeSerial('a')).toBe('0A');
    expect(normalizeSerial('0000')).toBe('00');
    expect(normalizeSerial('7F00')).toBe('7F00');
  });
});

describe('verifyCrl', () => {
  it('finds the issuing CA in the bundle and checks its signature', () => {
    const crl = parseCrl(issueCrl(issuing, { crlNumber: 1 }).pem);
    expect(verifyCrl(crl, bundle, now)).toEqual({ issuerSubject: 'CN=Verify Issuing,O=Test', issuerFingerprint: new X509Certificate(issuing.certPem).fingerprint256 });
  });

  it('refuses a CRL whose CA is not in the bundle', () => {
    const crl = parseCrl(issueCrl(issuing, { crlNumber: 1 }).pem);
    expect(refusal(() => verifyCrl(crl, root.certPem, now))).toBe('no CA in the trust bundle is named CN=Verify Issuing,O=Test');
  });

  it('refuses a CRL from another CA of the same name, by its key identifier', () => {
    const impostor = createRootCa({ subject: { commonName: 'Verify Root', organization: 'Test' } });
    const crl = parseCrl(issueCrl(impostor, { crlNumber: 1 }).pem);
    expect(refusal(() => verifyCrl(crl, bundle, now))).toBe(`no CA named CN=Verify Root,O=Test in the trust bundle has key identifier ${skiOf(impostor)}`);
  });

  it('refuses a CRL whose signature does not verify', () => {
    const other = createRootCa({ subject: { commonName: 'Other' } });
    const crl = parseCrl(issueCrl(issuing, { crlNumber: 1, signingKeyPem: other.keyPem }).pem);
    expect(refusal(() => verifyCrl(crl, bundle, now))).toBe('bad signature: not signed by the key of CN=Verify Issuing,O=Test in the trust bundle');
  });

  it('refuses a CRL past its nextUpdate, at nextUpdate itself included', () => {
    const nextUpdate = new Date('2026-01-01T00:00:00Z');
    const crl = parseCrl(issueCrl(issuing, { crlNumber: 1, thisUpdate: new Date('2025-12-01T00:00:00Z'), nextUpdate }).pem);
    expect(refusal(() => verifyCrl(crl, bundle, nextUpdate))).toBe('expired at 2026-01-01T00:00:00.000Z');
    expect(verifyCrl(crl, bundle, new Date(nextUpdate.getTime() - 1000)).issuerSubject).toBe('CN=Verify Issuing,O=Test');
  });

  it('refuses a CRL issued more than five minutes in the future', () => {
    const ahead = (minutes: number) => parseCrl(issueCrl(issuing, { crlNumber: 1, thisUpdate: new Date(now.getTime() + minutes * 60_000) }).pem);
    expect(refusal(() => verifyCrl(ahead(6), bundle, now))).toMatch(/^thisUpdate .* is in the future/);
    expect(verifyCrl(ahead(4), bundle, now).issuerSubject).toBe('CN=Verify Issuing,O=Test');
  });

  it('refuses a delta CRL, and one with a critical extension OpenSSL would reject', async () => {
    const delta = parseCrl(await generatedCrl(issuing, [new x509.Extension('2.5.29.27', true, Buffer.from('020101', 'hex'))]));
    expect(refusal(() => verifyCrl(delta, bundle, now))).toBe('is a delta CRL; only complete CRLs are installed');
    const unknown = parseCrl(await generatedCrl(issuing, [new x509.Extension('1.2.3.4', true, Buffer.from('0500', 'hex'))]));
    expect(refusal(() => verifyCrl(unknown, bundle, now))).toBe('has a critical extension OpenSSL does not handle (1.2.3.4)');
  });

  it('verifies an ECDSA CA\'s CRL', () => {
    const ecCa = opensslEcCa('EC Verify');
    const crl = parseCrl(issueCrl(ecCa, { crlNumber: 3 }).pem);
    expect(verifyCrl(crl, ecCa.certPem, now).issuerSubject).toBe('CN=EC Verify');
  });

  it('refuses a CRL from a CA whose keyUsage does not allow signing CRLs', () => {
    const ca = opensslEcCa('No CRL Sign', ['keyUsage=critical,keyCertSign']);
    const crl = parseCrl(issueCrl(ca, { crlNumber: 1 }).pem);
    expect(refusal(() => verifyCrl(crl, ca.certPem, now))).toBe('the CA CN=No CRL Sign may not sign CRLs (its keyUsage lacks cRLSign)');
  });
});

describe('bundleCertificates', () => {
  it('lists the CAs with subject, key identifier and fingerprint, once each, without end-entity certificates', () => {
    const cas = bundleCertificates(`${bundle}${root.certPem}${client.certPem}`);
    expect(cas.map(({ subject, subjectKeyId, fingerprint }) => ({ subject, subjectKeyId, fingerprint }))).toEqual([
      { subject: 'CN=Verify Root,O=Test', subjectKeyId: skiOf(root), fingerprint: new X509Certificate(root.certPem).fingerprint256 },
      { subject: 'CN=Verify Issuing,O=Test', subjectKeyId: skiOf(issuing), fingerprint: new X509Certificate(issuing.certPem).fingerprint256 },
    ]);
  });

  it('names an unreadable certificate by its position', () => {
    expect(refusal(() => bundleCertificates(`${root.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`))).toMatch(/^trust bundle: certificate #2 cannot be read/);
  });
});

describe('crlDistributionPoints', () => {
  it('collects the http(s) URLs of every certificate, first occurrence first', () => {
    const https = createIntermediateCa(root, { subject: { commonName: 'B' }, crlDistributionPoint: 'https://crl.test/b.crl' });
    const ldap = createIntermediateCa(root, { subject: { commonName: 'C' }, crlDistributionPoint: 'ldap://crl.test/cn=c' });
    const again = createIntermediateCa(root, { subject: { commonName: 'D' }, crlDistributionPoint: 'http://crl.test/root.crl' });
    expect(crlDistributionPoints(bundle + https.certPem + ldap.certPem + again.certPem + client.certPem)).toEqual([
      'http://crl.test/root.crl',
      'https://crl.test/b.crl',
      'http://crl.test/issuing.crl',
    ]);
    expect(crlDistributionPoints(root.certPem)).toEqual([]);
  });
});
