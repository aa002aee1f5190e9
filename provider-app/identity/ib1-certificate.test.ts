/**
 * readIb1Identity against certificates made by another tool (the openssl CLI, from
 * spec-shaped configs) and by testing/pki/ib1.ts, and the header form nginx passes.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createIb1Pki, encodeIb1Member, encodeIb1Roles, issueIb1Client, type Ib1Pki } from '../../testing/pki/ib1';
import { IB1_MEMBER_OID, IB1_ROLES_OID, Ib1CertificateError, readIb1Identity, readIb1IdentityFromHeader, type Ib1CertificateProblem } from './ib1-certificate';

const APP = 'https://directory.core.trust.ib1.org/application/38328a78';
const MEMBER = 'https://directory.core.trust.ib1.org/member/2876152';
const ROLE_A = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';
const ROLE_B = 'https://registry.core.trust.ib1.org/scheme/electricity/role/archiver';

let dir: string;
let n = 0;

interface OpensslCert {
  /** `[dn]` lines. @default [`CN = ${APP}`] */
  readonly dn?: readonly string[];
  /** Lines of the extension section. */
  readonly ext: readonly string[];
  /** Further config sections, verbatim. */
  readonly sections?: readonly string[];
  readonly key?: 'P-256' | 'P-384' | 'RSA';
}

function run(args: string[]): string {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A self-signed certificate made by `openssl req -x509` from a config written here. */
function opensslCert({ dn = [`CN = ${APP}`], ext, sections = [], key = 'P-256' }: OpensslCert): string {
  n += 1;
  const conf = join(dir, `c${n}.cnf`);
  const keyFile = join(dir, `k${n}.pem`);
  const certFile = join(dir, `c${n}.pem`);
  writeFileSync(conf, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', ...dn, '[ext]', ...ext, ...sections, ''].join('\n'));
  run(key === 'RSA' ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile] : ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${key}`, '-out', keyFile]);
  run(['req', '-x509', '-new', '-key', keyFile, '-config', conf, '-extensions', 'ext', '-days', '1', '-out', certFile]);
  return readFileSync(certFile, 'utf8');
}

const IB1_EXT = [`subjectAltName = URI:${APP}`, `${IB1_ROLES_OID} = ASN1:SEQUENCE:roles`, `${IB1_MEMBER_OID} = ASN1:UTF8String:${MEMBER}`];
const ROLES_SECTION = ['[roles]', `r1 = UTF8String:${ROLE_A}`, `r2 = UTF8String:${ROLE_B}`];

function problemOf(read: () => unknown): Ib1CertificateProblem | 'no error' {
  try {
    read();
    return 'no error';
  } catch (error) {
    if (error instanceof Ib1CertificateError) return error.problem;
    throw error;
  }
}

function thumbprint(pem: string): string {
  return Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ib1-identity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readIb1Identity on certificates made by openssl', () => {
  it('reads the Directory URL, the Member, the Roles in order, the key algorithm and the thumbprint', () => {
    const pem = opensslCert({ dn: ['C = GB', 'O = Example Ltd', `CN = ${APP}`], ext: IB1_EXT, sections: ROLES_SECTION });
    expect(readIb1Identity(pem)).toEqual({
      directoryUrl: APP,
      subjectCn: APP,
      memberUrl: MEMBER,
      roles: [ROLE_A, ROLE_B],
      keyAlgorithm: 'EC P-256',
      thumbprintS256: thumbprint(pem),
    });
  });

  it('names P-384 and RSA keys so a policy can refuse what the profile does not allow', () => {
    expect(readIb1Identity(opensslCert({ ext: IB1_EXT, sections: ROLES_SECTION, key: 'P-384' })).keyAlgorithm).toBe('EC P-384');
    expect(readIb1Identity(opensslCert({ ext: IB1_EXT, sections: ROLES_SECTION, key: 'RSA' })).keyAlgorithm).toBe('RSA');
  });

  it('gives no roles and no member when the extensions are absent', () => {
    const identity = readIb1Identity(opensslCert({ ext: [`subjectAltName = URI:${APP}`] }));
    expect(identity.roles).toEqual([]);
    expect('memberUrl' in identity).toBe(false);
  });

  it('reads an empty roles SEQUENCE as no roles', () => {
    expect(readIb1Identity(opensslCert({ ext: [`subjectAltName = URI:${APP}`, `${IB1_ROLES_OID} = ASN1:SEQUENCE:roles`], sections: ['[roles]'] })).roles).toEqual([]);
  });

  it('accepts other SAN types beside the one URI', () => {
    expect(readIb1Identity(opensslCert({ ext: [`subjectAltName = DNS:client.example.org, URI:${APP}, email:ops@example.org`] })).directoryUrl).toBe(APP);
  });

  it('refuses a certificate without a SAN URI: no_san_uri', () => {
    expect(problemOf(() => readIb1Identity(opensslCert({ ext: ['subjectAltName = DNS:client.example.org'] })))).toBe('no_san_uri');
    expect(problemOf(() => readIb1Identity(opensslCert({ ext: ['basicConstraints = CA:FALSE'] })))).toBe('no_san_uri');
  });

  it('refuses two SAN URIs, naming both: multiple_san_uris', () => {
    const pem = opensslCert({ ext: [`subjectAltName = URI:${APP}, URI:https://directory.example.org/application/other`] });
    expect(() => readIb1Identity(pem)).toThrow(expect.objectContaining({ problem: 'multiple_san_uris', message: expect.stringContaining('application/other') }));
  });

  it('refuses a CN that is not exactly the SAN URI (a trailing slash differs): cn_mismatch', () => {
    const pem = opensslCert({ dn: [`CN = ${APP}/`], ext: [`subjectAltName = URI:${APP}`] });
    expect(() => readIb1Identity(pem)).toThrow(expect.objectContaining({ problem: 'cn_mismatch', message: `the client certificate subject CN "${APP}/" is not its subjectAltName URI "${APP}"` }));
  });

  it('refuses a subject without a CN, or with two', () => {
    expect(problemOf(() => readIb1Identity(opensslCert({ dn: ['O = Example Ltd'], ext: [`subjectAltName = URI:${APP}`] })))).toBe('no_subject_cn');
    expect(problemOf(() => readIb1Identity(opensslCert({ dn: [`0.CN = ${APP}`, `1.CN = ${APP}`], ext: [`subjectAltName = URI:${APP}`] })))).toBe('multiple_subject_cn');
  });

  it('refuses ib1Roles that is not a SEQUENCE, or holds another string type: malformed_roles', () => {
    const single = opensslCert({ ext: [`subjectAltName = URI:${APP}`, `${IB1_ROLES_OID} = ASN1:UTF8String:${ROLE_A}`] });
    expect(problemOf(() => readIb1Identity(single))).toBe('malformed_roles');
    const ia5 = opensslCert({ ext: [`subjectAltName = URI:${APP}`, `${IB1_ROLES_OID} = ASN1:SEQUENCE:roles`], sections: ['[roles]', `r1 = UTF8String:${ROLE_A}`, `r2 = IA5STRING:${ROLE_B}`] });
    expect(() => readIb1Identity(ia5)).toThrow(expect.objectContaining({ problem: 'malformed_roles', message: expect.stringContaining('item 2 is not a UTF8String') }));
  });

  it('refuses ib1Member that is not a UTF8String: malformed_member', () => {
    const ia5 = opensslCert({ ext: [`subjectAltName = URI:${APP}`, `${IB1_MEMBER_OID} = ASN1:IA5STRING:${MEMBER}`] });
    expect(problemOf(() => readIb1Identity(ia5))).toBe('malformed_member');
    const seq = opensslCert({ ext: [`subjectAltName = URI:${APP}`, `${IB1_MEMBER_OID} = ASN1:SEQUENCE:roles`], sections: ROLES_SECTION });
    expect(problemOf(() => readIb1Identity(seq))).toBe('malformed_member');
  });
});

describe('readIb1Identity on certificates openssl cannot make', () => {
  const crypto = webcrypto;

  async function selfSigned(extensions: x509.Extension[]): Promise<string> {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      { name: [{ CN: [APP] }], keys, signingAlgorithm: alg, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: APP }]), ...extensions] },
      crypto,
    );
    return cert.toString('pem');
  }

  it('refuses an extension that appears twice: duplicate_extension', async () => {
    const pem = await selfSigned([new x509.Extension(IB1_MEMBER_OID, false, encodeIb1Member(MEMBER)), new x509.Extension(IB1_MEMBER_OID, false, encodeIb1Member(APP))]);
    expect(problemOf(() => readIb1Identity(pem))).toBe('duplicate_extension');
  });

  it('refuses ib1Roles with bytes after the SEQUENCE: malformed_roles', async () => {
    const pemWithout = await selfSigned([new x509.Extension(IB1_ROLES_OID, false, encodeIb1Roles([ROLE_A]))]);
    const trailing = Buffer.concat([Buffer.from(encodeIb1Roles([ROLE_A])), Buffer.from([0x05, 0x00])]);
    expect(problemOf(() => readIb1Identity(pemWithout))).toBe('no error');
    const pem = await selfSigned([new x509.Extension(IB1_ROLES_OID, false, trailing)]);
    expect(problemOf(() => readIb1Identity(pem))).toBe('malformed_roles');
  });
});

describe('readIb1Identity on certificates from testing/pki/ib1', () => {
  let pki: Ib1Pki;
  beforeAll(async () => {
    pki = await createIb1Pki();
  });

  it('reads what the test PKI wrote, from the leaf of a chain', async () => {
    const client = await issueIb1Client(pki.issuer, { directoryUrl: APP, memberUrl: MEMBER, roles: [ROLE_B, ROLE_A] });
    expect(readIb1Identity(client.chainPem)).toEqual({
      directoryUrl: APP,
      subjectCn: APP,
      memberUrl: MEMBER,
      roles: [ROLE_B, ROLE_A],
      keyAlgorithm: 'EC P-256',
      thumbprintS256: thumbprint(client.certPem),
    });
  });

  it('names the key algorithm of P-384 and RSA leaves', async () => {
    const p384 = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: [ROLE_A], keyAlgorithm: 'P-384' });
    const rsa = await issueIb1Client(pki.issuer, { directoryUrl: APP, roles: [ROLE_A], keyAlgorithm: 'RSA' });
    expect(readIb1Identity(p384.certPem).keyAlgorithm).toBe('EC P-384');
    expect(readIb1Identity(rsa.certPem).keyAlgorithm).toBe('RSA');
  });
});

describe('readIb1IdentityFromHeader', () => {
  let pem: string;
  beforeAll(() => {
    pem = opensslCert({ ext: IB1_EXT, sections: ROLES_SECTION });
  });

  it('reads the URL-encoded PEM of $ssl_client_escaped_cert', () => {
    const escaped = encodeURIComponent(pem);
    expect(escaped).not.toContain('\n');
    expect(readIb1IdentityFromHeader(escaped)).toEqual(readIb1Identity(pem));
  });

  it('reads the tab-continued PEM of the legacy $ssl_client_cert', () => {
    expect(readIb1IdentityFromHeader(pem.trim().replace(/\n/g, '\n\t')).directoryUrl).toBe(APP);
  });

  it('refuses an absent header: no_certificate', () => {
    expect(problemOf(() => readIb1IdentityFromHeader(undefined))).toBe('no_certificate');
    expect(problemOf(() => readIb1IdentityFromHeader('  '))).toBe('no_certificate');
  });

  it('refuses what is not a certificate: unreadable_certificate', () => {
    expect(problemOf(() => readIb1IdentityFromHeader('%E0%A4%A'))).toBe('unreadable_certificate');
    expect(problemOf(() => readIb1IdentityFromHeader('hello'))).toBe('unreadable_certificate');
    expect(problemOf(() => readIb1Identity(''))).toBe('unreadable_certificate');
    expect(problemOf(() => readIb1IdentityFromHeader('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))).toBe('unreadable_certificate');
  });
});
