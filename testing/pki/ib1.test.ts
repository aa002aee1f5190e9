/**
 * The IB1 test PKI, judged by another tool: the openssl CLI must read every certificate,
 * find IB1's extensions where the spec puts them, and verify leaf → issuer → root.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { createIb1Pki, IB1_MEMBER_OID, IB1_ROLES_OID, issueIb1Client, issueIb1Server, type Ib1Pki, type IssuedCertificate } from './ib1';

const APP = 'https://directory.example.org/application/38328a78';
const MEMBER = 'https://directory.example.org/member/2876152';
const ROLES = ['https://registry.example.org/scheme/electricity/role/reporter', 'https://registry.example.org/scheme/electricity/role/archiver'];

let dir: string;
let pki: Ib1Pki;
let client: IssuedCertificate;
let n = 0;

/** Writes `pem` to a fresh file in the test folder and returns its path. */
function file(pem: string): string {
  const path = join(dir, `f${(n += 1)}.pem`);
  writeFileSync(path, pem);
  return path;
}

function openssl(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function text(pem: string): string {
  const result = openssl('x509', '-in', file(pem), '-noout', '-text');
  expect(result.status).toBe(0);
  return result.out;
}

/** openssl's own parse of an extension's value: the OCTET STRING after the OID, re-parsed. */
function parseExtensionValue(pem: string, oid: string): string {
  const lines = openssl('asn1parse', '-in', file(pem)).out.split('\n');
  const at = lines.findIndex((line) => line.includes(`OBJECT            :${oid}`));
  expect(at).toBeGreaterThan(-1);
  const octets = lines.slice(at + 1).find((line) => line.includes('OCTET STRING'))!;
  const offset = /^\s*(\d+):/.exec(octets)![1]!;
  return openssl('asn1parse', '-in', file(pem), '-strparse', offset).out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ib1-pki-'));
  pki = await createIb1Pki();
  client = await issueIb1Client(pki.issuer, { directoryUrl: APP, memberUrl: MEMBER, roles: ROLES, organization: 'Example Ltd', country: 'GB' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createIb1Pki', () => {
  it('makes a self-signed P-256 Client CA root that may sign one level of CAs', () => {
    const out = text(pki.root.certPem);
    expect(out).toContain('Subject: CN = Test Client CA');
    expect(out).toContain('Issuer: CN = Test Client CA');
    expect(out).toContain('ASN1 OID: prime256v1');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    expect(out).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });

  it('makes a Client Issuer signed by the root that may sign only leaves', () => {
    const out = text(pki.issuer.certPem);
    expect(out).toContain('Subject: CN = Test Client Issuer');
    expect(out).toContain('Issuer: CN = Test Client CA');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(openssl('verify', '-CAfile', file(pki.root.certPem), file(pki.issuer.certPem)).status).toBe(0);
  });

  it('makes a P-384 root signing with SHA-384 when asked (the spec production roots)', async () => {
    const p384 = await createIb1Pki({ rootKeyAlgorithm: 'P-384', hierarchy: 'Server', trustFramework: 'Core' });
    const out = text(p384.root.certPem);
    expect(out).toContain('ASN1 OID: secp384r1');
    expect(out).toContain('Signature Algorithm: ecdsa-with-SHA384');
    expect(out).toContain('Subject: CN = Core Server CA');
    const leaf = await issueIb1Server(p384.issuer, { dnsNames: ['localhost'] });
    expect(openssl('verify', '-CAfile', file(p384.root.certPem), '-untrusted', file(p384.issuer.certPem), file(leaf.certPem)).out).toMatch(/: OK/);
  });
});

describe('issueIb1Client', () => {
  it('names the Application by its Directory URL as subject CN and as the only SAN, a URI', () => {
    const out = text(client.certPem);
    expect(out).toContain(`Subject: C = GB, O = Example Ltd, CN = ${APP}`);
    expect(out).toMatch(new RegExp(`Subject Alternative Name: \\n\\s+URI:${APP}\\n`));
    expect(out).toContain('ASN1 OID: prime256v1');
    expect(out).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(out).toMatch(/Extended Key Usage: \s+TLS Web Client Authentication/);
    expect(out).toContain('X509v3 Subject Key Identifier');
    expect(out).toContain('X509v3 Authority Key Identifier');
  });

  it('encodes ib1Roles as a non-critical SEQUENCE of UTF8String, in order', () => {
    expect(text(client.certPem)).toContain(`${IB1_ROLES_OID}: \n`); // no "critical" after the OID
    const parsed = parseExtensionValue(client.certPem, IB1_ROLES_OID);
    expect(parsed).toMatch(/^\s*0:d=0\s+hl=2 l=\s*\d+ cons: SEQUENCE\s*$/m);
    const strings = [...parsed.matchAll(/d=1 .*prim: UTF8STRING\s+:(\S+)/g)].map((m) => m[1]);
    expect(strings).toEqual(ROLES);
  });

  it('encodes ib1Member as a non-critical UTF8String', () => {
    expect(text(client.certPem)).toContain(`${IB1_MEMBER_OID}: \n`);
    expect(parseExtensionValue(client.certPem, IB1_MEMBER_OID)).toMatch(new RegExp(`^\\s*0:d=0\\s+hl=2 l=\\s*\\d+ prim: UTF8STRING\\s+:${MEMBER}\\s*$`));
  });

  it('encodes both extensions byte for byte as openssl does from the spec-shaped config', () => {
    const conf = file(
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        'CN = x',
        '[ib1]',
        `${IB1_ROLES_OID} = ASN1:SEQUENCE:roles`,
        `${IB1_MEMBER_OID} = ASN1:UTF8String:${MEMBER}`,
        '[roles]',
        ...ROLES.map((role, i) => `r${i} = UTF8String:${role}`),
        '',
      ].join('\n'),
    );
    const key = join(dir, 'ref.key');
    expect(openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key).status).toBe(0);
    const made = openssl('req', '-x509', '-new', '-key', key, '-config', conf, '-extensions', 'ib1', '-days', '1');
    expect(made.status).toBe(0);
    const value = (pem: string, oid: string) => Buffer.from(new x509.X509Certificate(pem).getExtension(oid)!.value).toString('hex');
    const reference = made.out.slice(made.out.indexOf('-----BEGIN CERTIFICATE-----'));
    expect(value(client.certPem, IB1_ROLES_OID)).toBe(value(reference, IB1_ROLES_OID));
    expect(value(client.certPem, IB1_MEMBER_OID)).toBe(value(reference, IB1_MEMBER_OID));
  });

  it('verifies with openssl: leaf → issuer (untrusted) → root, for client use', () => {
    const result = openssl('verify', '-purpose', 'sslclient', '-CAfile', file(pki.root.certPem), '-untrusted', file(pki.issuer.certPem), file(client.certPem));
    expect(result).toEqual({ status: 0, out: expect.stringMatching(/: OK\n$/) });
  });

  it('does not verify against another root (the check above can fail)', async () => {
    const other = await createIb1Pki();
    const result = openssl('verify', '-CAfile', file(other.root.certPem), '-untrusted', file(pki.issuer.certPem), file(client.certPem));
    expect(result.status).not.toBe(0);
  });

  it('returns the key as PKCS#8 and the chain as leaf then issuer', () => {
    // PKCS#8 PEM: exactly what node:crypto writes for that key as pkcs8.
    expect(String(createPrivateKey(client.keyPem).export({ type: 'pkcs8', format: 'pem' })).trim()).toBe(client.keyPem.trim());
    const fromKey = createPublicKey(client.keyPem).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(client.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(fromKey.equals(fromCert)).toBe(true);
    expect(client.chainPem).toBe(client.certPem + pki.issuer.certPem);
  });

  it('issues P-384 and RSA leaves when asked, still signed by the P-256 issuer', async () => {
    const p384 = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: ROLES, keyAlgorithm: 'P-384' });
    const rsa = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: ROLES, keyAlgorithm: 'RSA' });
    expect(text(p384.certPem)).toContain('ASN1 OID: secp384r1');
    expect(text(rsa.certPem)).toContain('Public Key Algorithm: rsaEncryption');
    for (const leaf of [p384, rsa]) {
      expect(openssl('verify', '-CAfile', file(pki.root.certPem), '-untrusted', file(pki.issuer.certPem), file(leaf.certPem)).status).toBe(0);
    }
  });

  it('leaves ib1Member out when no memberUrl is given, and adds a CRL distribution point when one is', async () => {
    const leaf = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: [], crlDistributionPoint: 'http://crl.example.org/client.crl' });
    const out = text(leaf.certPem);
    expect(out).not.toContain(IB1_MEMBER_OID);
    expect(out).toMatch(/CRL Distribution Points: \s+Full Name:\s+URI:http:\/\/crl.example.org\/client.crl/);
  });

  it('honours a validity in the past and rejects one that ends before it starts', async () => {
    const notAfter = new Date(Date.now() - 86_400_000);
    const expired = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: ROLES, notBefore: new Date(notAfter.getTime() - 86_400_000), notAfter });
    expect(new Date(new X509Certificate(expired.certPem).validTo).getTime()).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    await expect(issueIb1Client(pki.issuer, { directoryUrl: APP, roles: ROLES, notBefore: new Date(2030, 1, 1), notAfter: new Date(2029, 1, 1) })).rejects.toThrow(
      /notAfter .* must be after notBefore/,
    );
  });
});

describe('issueIb1Server', () => {
  it('issues a P-256 serverAuth certificate with the DNS names, valid for one day', async () => {
    const server = await issueIb1Server(pki.issuer, { dnsNames: ['localhost', 'provider.example.org'] });
    const out = text(server.certPem);
    expect(out).toContain('Subject: CN = localhost');
    expect(out).toContain('DNS:localhost, DNS:provider.example.org');
    expect(out).toMatch(/Extended Key Usage: \s+TLS Web Server Authentication/);
    const x = new X509Certificate(server.certPem);
    expect(Date.parse(x.validTo) - Date.parse(x.validFrom)).toBe(86_400_000);
    expect(openssl('verify', '-purpose', 'sslserver', '-CAfile', file(pki.root.certPem), '-untrusted', file(pki.issuer.certPem), file(server.certPem)).status).toBe(0);
  });

  it('refuses to issue without a DNS name', async () => {
    await expect(issueIb1Server(pki.issuer, { dnsNames: [] })).rejects.toThrow(/at least one DNS name/);
  });
});

describe('the set in a mutual TLS handshake', () => {
  it('lets a Node TLS server trusting the root authenticate the client by its chain', async () => {
    const serverCert = await issueIb1Server(pki.issuer, { dnsNames: ['localhost'] });
    const server = tls.createServer({ cert: serverCert.chainPem, key: serverCert.keyPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.end(socket.getPeerX509Certificate()?.subjectAltName ?? 'none');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.root.certPem, cert: client.chainPem, key: client.keyPem });
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      await once(socket, 'end');
      socket.destroy();
      expect(answer).toBe(`URI:${APP}`);
    } finally {
      server.close();
    }
  });
});
