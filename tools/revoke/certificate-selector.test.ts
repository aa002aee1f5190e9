import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCert } from '../../testing/pki';
import { serialOf } from '../../testing/pki/crl';
import { denyEntryFor, selectCertificate } from './certificate-selector';

const ca = createRootCa({ subject: { commonName: 'Selector CA', organization: 'Example' } });
const client = issueClientCert(ca, { subject: { commonName: 'client' } });
const sha1 = new X509Certificate(client.certPem).fingerprint.replace(/:/g, '').toLowerCase();
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'selector-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('selectCertificate', () => {
  it('a certificate file, PEM or DER: listed by issuer and serial, found by its fingerprint too', () => {
    const pem = join(dir, 'client.pem');
    const der = join(dir, 'client.der');
    writeFileSync(pem, `Bag Attributes: text before the block is fine\n${client.certPem}`);
    writeFileSync(der, new X509Certificate(client.certPem).raw);
    for (const file of [pem, der]) {
      expect(selectCertificate({ file })).toEqual({
        target: { issuer: 'CN=Selector CA,O=Example', serial: serialOf(client.certPem) },
        keys: [`CN=Selector CA,O=Example|${serialOf(client.certPem)}`, `sha1:${sha1}`],
        description: `serial ${serialOf(client.certPem)} of CN=Selector CA,O=Example (${file})`,
      });
    }
  });

  it('--sha1 as openssl prints it, label and colons included', () => {
    const printed = `SHA1 Fingerprint=${new X509Certificate(client.certPem).fingerprint}`;
    expect(selectCertificate({ sha1: printed }).target).toEqual({ sha1Fingerprint: sha1 });
  });

  it('--serial with leading zero bytes: as nginx prints it, without them', () => {
    expect(selectCertificate({ serial: '00:8F', issuer: 'CN=A,O=B' }).target).toEqual({ issuer: 'CN=A,O=B', serial: '8F' });
  });
});

describe('denyEntryFor', () => {
  it('adds when and why', () => {
    expect(denyEntryFor({ sha1Fingerprint: sha1 }, 'lost', new Date('2026-05-01T10:00:00Z'))).toEqual({ sha1Fingerprint: sha1, reason: 'lost', addedAt: '2026-05-01T10:00:00.000Z' });
  });

  it('a reason too long is named by its option', () => {
    expect(() => denyEntryFor({ sha1Fingerprint: sha1 }, 'x'.repeat(201), new Date())).toThrow(/^--reason: /);
  });
});
