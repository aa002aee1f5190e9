/**
 * Development PKI shaped like the IB1 Trust Framework's (Member Identity Digital
 * Certificates 1.0): Client CA root → Client Issuer → leaf, ECDSA keys, the Application's
 * Directory URL as subject CN and as the one URI SAN, and IB1's own extensions.
 *
 * Built on @peculiar/x509 over Node's WebCrypto, because node-forge (testing/pki/index.ts,
 * the open-energy profile) cannot sign or read ECDSA certificates. Everything is async
 * (WebCrypto is). The WebCrypto provider is passed to each call rather than installed
 * globally with `x509.cryptoProvider.set`, so importing this module changes nothing.
 *
 * API
 * - `createIb1Pki(options?)` → {@link Ib1Pki}: `root` (self-signed, pathLen 1) and `issuer` (pathLen 0)
 * - `issueIb1Client(issuer, { directoryUrl, memberUrl, roles, ... })` → {@link IssuedCertificate}
 * - `issueIb1Server(issuer, { dnsNames })` → {@link IssuedCertificate} (ECDSA P-256, serverAuth)
 * - `encodeIb1Roles(roles)` / `encodeIb1Member(url)` → the DER extension values
 * - `IB1_ROLES_OID`, `IB1_MEMBER_OID`
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { IB1_MEMBER_OID, IB1_ROLES_OID } from '../../provider-app/identity/ib1-certificate';
import type { IssuedCertificate, Validity } from './index';

export type { IssuedCertificate, Validity } from './index';
// One definition of the OIDs: the reader's, which the app uses.
export { IB1_MEMBER_OID, IB1_ROLES_OID };

// Node's WebCrypto; its types come from node:crypto (this project compiles without the DOM lib).
const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type SignParams = webcrypto.EcdsaParams | webcrypto.Algorithm;

/** Key of a leaf. RSA exists only so tests can check that it is refused. */
export type Ib1KeyAlgorithm = 'P-256' | 'P-384' | 'RSA';

/** A CA of the hierarchy; `signingKey` stays in memory, `keyPem` is its PKCS#8 export. */
export interface Ib1Authority extends IssuedCertificate {
  readonly commonName: string;
  readonly signingKey: CryptoKey;
  /** The parsed certificate: its subject and key identifier go into what it issues. */
  readonly certificate: x509.X509Certificate;
}

export interface Ib1Pki {
  readonly root: Ib1Authority;
  readonly issuer: Ib1Authority;
}

export interface Ib1PkiOptions {
  /** Prefix of the CA names: `<name> Client CA`, `<name> Client Issuer`. @default 'Test' */
  readonly trustFramework?: string;
  /** The spec names separate Client and Server hierarchies; this picks the CA names. @default 'Client' */
  readonly hierarchy?: 'Client' | 'Server';
  /** The spec's production roots are P-384; P-256 is the default here. @default 'P-256' */
  readonly rootKeyAlgorithm?: 'P-256' | 'P-384';
}

export interface Ib1ClientOptions extends Validity {
  /** The Application's Directory URL: subject CN and the single URI SAN. */
  readonly directoryUrl: string;
  /** Goes into `ib1Member`; omitted, the extension is left out (to test its absence). */
  readonly memberUrl?: string;
  /** Go into `ib1Roles`, in this order. */
  readonly roles: readonly string[];
  /** @default 'P-256' */
  readonly keyAlgorithm?: Ib1KeyAlgorithm;
  readonly crlDistributionPoint?: string;
  /** Subject O and C, as the Directory writes them. @default none */
  readonly organization?: string;
  readonly country?: string;
}

export interface Ib1ServerOptions extends Validity {
  /** The first is also the subject CN. */
  readonly dnsNames: readonly string[];
  /** IP SANs besides the names (a development server reached as https://127.0.0.1:port). */
  readonly ipAddresses?: readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** The DER value of `ib1Roles`, built with asn1js (the ASN.1 library under @peculiar/x509). */
export function encodeIb1Roles(roles: readonly string[]): ArrayBuffer {
  return new asn1js.Sequence({ value: roles.map((value) => new asn1js.Utf8String({ value })) }).toBER();
}

/** The DER value of `ib1Member`. */
export function encodeIb1Member(memberUrl: string): ArrayBuffer {
  return new asn1js.Utf8String({ value: memberUrl }).toBER();
}

function keyParams(algorithm: Ib1KeyAlgorithm): { generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams; sign: SignParams } {
  switch (algorithm) {
    case 'P-256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'P-384':
      // The hash follows the curve's strength, as the CA/B Forum profile asks.
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'RSA':
      return {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
  }
}

async function newKeyPair(algorithm: Ib1KeyAlgorithm): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  const keys = (await crypto.subtle.generateKey(keyParams(algorithm).generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

function validityOf(validity: Validity, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = validity.notBefore ?? new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = validity.notAfter ?? new Date(notBefore.getTime() + (validity.validityDays ?? defaultDays) * DAY_MS);
  if (notAfter <= notBefore) {
    throw new Error(`ib1 pki: notAfter (${notAfter.toISOString()}) must be after notBefore (${notBefore.toISOString()})`);
  }
  return { notBefore, notAfter };
}

function serialNumber(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** The issuer's own subject key identifier, so the AKI matches it byte for byte. */
function authorityKeyId(issuer: Ib1Authority): x509.AuthorityKeyIdentifierExtension {
  const ski = issuer.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`ib1 pki: issuer "${issuer.commonName}" has no subject key identifier`);
  return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
}

/** The signature algorithm an authority signs with (its curve picks the hash). */
function signingAlgorithmOf(issuer: Ib1Authority): SignParams {
  const curve = (issuer.signingKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  return keyParams(curve === 'P-384' ? 'P-384' : 'P-256').sign;
}

interface SignRequest {
  readonly subject: x509.JsonName;
  readonly publicKey: CryptoKey;
  readonly validity: { notBefore: Date; notAfter: Date };
  readonly extensions: x509.Extension[];
}

async function signBy(issuer: Ib1Authority, request: SignRequest): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: request.subject,
      issuer: issuer.certificate.subjectName,
      ...request.validity,
      publicKey: request.publicKey,
      signingKey: issuer.signingKey,
      signingAlgorithm: signingAlgorithmOf(issuer),
      extensions: [
        ...request.extensions,
        await x509.SubjectKeyIdentifierExtension.create(request.publicKey, false, crypto),
        authorityKeyId(issuer),
      ],
    },
    crypto,
  );
}

function authority(commonName: string, certificate: x509.X509Certificate, signingKey: CryptoKey, keyPem: string, chainPem: string): Ib1Authority {
  const certPem = certificate.toString('pem') + '\n';
  return { commonName, certificate, signingKey, keyPem, certPem, chainPem: certPem + chainPem };
}

/** A root (self-signed, pathLen 1, 9132 days as in the spec) and an issuer (pathLen 0, 10 years). */
export async function createIb1Pki(options: Ib1PkiOptions = {}): Promise<Ib1Pki> {
  const prefix = `${options.trustFramework ?? 'Test'} ${options.hierarchy ?? 'Client'}`;
  const rootAlgorithm = options.rootKeyAlgorithm ?? 'P-256';
  const rootKeys = await newKeyPair(rootAlgorithm);
  const rootName = `${prefix} CA`;
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [{ CN: [rootName] }],
      keys: rootKeys.keys,
      signingAlgorithm: keyParams(rootAlgorithm).sign,
      ...validityOf({ validityDays: 9132 }, 9132),
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  // A root is not part of the chain a peer sends.
  const root = authority(rootName, rootCert, rootKeys.keys.privateKey, rootKeys.keyPem, '');

  const issuerKeys = await newKeyPair('P-256');
  const issuerName = `${prefix} Issuer`;
  const issuerCert = await signBy(root, {
    subject: [{ CN: [issuerName] }],
    publicKey: issuerKeys.keys.publicKey,
    validity: validityOf({ validityDays: 3650 }, 3650),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  // The issuer's chain is itself only: what a server is configured with next to its leaf.
  const issuer = authority(issuerName, issuerCert, issuerKeys.keys.privateKey, issuerKeys.keyPem, '');
  return { root, issuer };
}

/** ECDSA keys sign; they do not encipher keys, so an RSA leaf also gets keyEncipherment. */
function leafKeyUsage(algorithm: Ib1KeyAlgorithm): x509.KeyUsagesExtension {
  const flags = algorithm === 'RSA' ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  return new x509.KeyUsagesExtension(flags, true);
}

/**
 * A Member client certificate (12 months by default, as in the spec): subject [C, O,] CN =
 * Directory URL, one URI SAN equal to it, `ib1Roles`, `ib1Member`, clientAuth.
 */
export async function issueIb1Client(issuer: Ib1Authority, options: Ib1ClientOptions): Promise<IssuedCertificate> {
  const algorithm = options.keyAlgorithm ?? 'P-256';
  const { keys, keyPem } = await newKeyPair(algorithm);
  const subject: x509.JsonName = [];
  if (options.country) subject.push({ C: [options.country] });
  if (options.organization) subject.push({ O: [options.organization] });
  subject.push({ CN: [options.directoryUrl] });
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    leafKeyUsage(algorithm),
    new x509.ExtendedKeyUsageExtension([CLIENT_AUTH]),
    new x509.SubjectAlternativeNameExtension([{ type: 'url', value: options.directoryUrl }]),
    // Not critical: a TLS stack that does not know IB1's OIDs must still accept the certificate.
    new x509.Extension(IB1_ROLES_OID, false, encodeIb1Roles(options.roles)),
  ];
  if (options.memberUrl !== undefined) extensions.push(new x509.Extension(IB1_MEMBER_OID, false, encodeIb1Member(options.memberUrl)));
  if (options.crlDistributionPoint) extensions.push(new x509.CRLDistributionPointsExtension([options.crlDistributionPoint]));
  const cert = await signBy(issuer, { subject, publicKey: keys.publicKey, validity: validityOf(options, 365), extensions });
  const certPem = cert.toString('pem') + '\n';
  return { certPem, keyPem, chainPem: certPem + issuer.chainPem };
}

/** A TLS server certificate: CN and DNS SANs, serverAuth, P-256; one day by default (the spec's maximum). */
export async function issueIb1Server(issuer: Ib1Authority, options: Ib1ServerOptions): Promise<IssuedCertificate> {
  if (options.dnsNames.length === 0) throw new Error('ib1 pki: a server certificate needs at least one DNS name (dnsNames)');
  const { keys, keyPem } = await newKeyPair('P-256');
  const cert = await signBy(issuer, {
    subject: [{ CN: [options.dnsNames[0]!] }],
    publicKey: keys.publicKey,
    validity: validityOf(options, 1),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      leafKeyUsage('P-256'),
      new x509.ExtendedKeyUsageExtension([SERVER_AUTH]),
      new x509.SubjectAlternativeNameExtension([
        ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return { certPem, keyPem, chainPem: certPem + issuer.chainPem };
}
