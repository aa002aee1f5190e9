/**
 * Certificate revocation lists for the development PKI: an X.509 v2 CRL signed by a
 * {@link CertificateAuthority}'s key, carrying the CRL Number and Authority Key
 * Identifier extensions, the way a real CA publishes one.
 *
 * The CRL is assembled with node-forge's ASN.1 writer and signed with node:crypto, so
 * it works for any key node:crypto can sign with: the RSA CAs of `index.ts`
 * (sha256WithRSAEncryption) and an ECDSA P-256 CA (ecdsa-with-SHA256). The CA's
 * certificate is read as plain ASN.1 rather than with forge's certificate parser,
 * which only understands RSA keys.
 *
 * API
 * - `issueCrl(ca, { crlNumber, revoked?, thisUpdate?, nextUpdate?, signingKeyPem? })` → `{ pem, der }`
 * - `serialOf(certPem)` → the serial as nginx prints `$ssl_client_serial` (uppercase hex)
 */
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAuthority } from './index';

const { asn1 } = forge;
const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** RFC 5280 §5.3.1 CRLReason names (value 7 is unused by the RFC). */
export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type CrlReason = keyof typeof CRL_REASONS;

export interface RevokedEntry {
  /** The certificate's serial in hex, as {@link serialOf} or OpenSSL print it. */
  readonly serialNumber: string;
  /** @default the CRL's thisUpdate */
  readonly revokedAt?: Date;
  /** Absent: no reasonCode entry extension (RFC 5280 prefers that to `unspecified`). */
  readonly reason?: CrlReason;
}

export interface CrlOptions {
  readonly crlNumber: number;
  readonly revoked?: readonly RevokedEntry[];
  /** @default one minute ago */
  readonly thisUpdate?: Date;
  /** @default seven days from now */
  readonly nextUpdate?: Date;
  /** Sign with this key instead of the CA's, to make a CRL whose signature does not verify. */
  readonly signingKeyPem?: string;
}

export interface IssuedCrl {
  readonly pem: string;
  readonly der: Buffer;
}

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  crlNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  authorityKeyIdentifier: '2.5.29.35',
};

/** Signs a CRL for `ca` revoking `options.revoked`. */
export function issueCrl(ca: Pick<CertificateAuthority, 'certPem' | 'keyPem'>, options: CrlOptions): IssuedCrl {
  if (!Number.isSafeInteger(options.crlNumber) || options.crlNumber < 0) {
    throw new Error(`pki: crlNumber must be a non-negative integer, got ${options.crlNumber}`);
  }
  const thisUpdate = options.thisUpdate ?? new Date(Date.now() - MINUTE_MS);
  const nextUpdate = options.nextUpdate ?? new Date(Date.now() + 7 * DAY_MS);
  const { subject, subjectKeyId } = readCaCertificate(ca.certPem);
  const key = createPrivateKey(options.signingKeyPem ?? ca.keyPem);
  const algorithm = signatureAlgorithm(key);

  const entries = (options.revoked ?? []).map((entry) => revokedCertificate(entry, thisUpdate));
  const tbs = sequence([
    integer(1), // v2: required because the CRL carries extensions
    algorithm,
    subject,
    time(thisUpdate),
    time(nextUpdate),
    ...(entries.length > 0 ? [sequence(entries)] : []), // RFC 5280: omit the list when empty
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      sequence([
        extension(OID.authorityKeyIdentifier, sequence([asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, subjectKeyId)])),
        extension(OID.crlNumber, integerFromHex(options.crlNumber.toString(16))),
      ]),
    ]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  // node:crypto signs RSA with PKCS#1 v1.5 and ECDSA as a DER Ecdsa-Sig-Value: both what X.509 expects.
  const signature = sign('sha256', tbsDer, key);
  const crl = sequence([tbs, algorithm, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${signature.toString('binary')}`)]);
  const der = Buffer.from(asn1.toDer(crl).getBytes(), 'binary');
  return { der, pem: toPem(der) };
}

/** The serial of the certificate in `certPem` as OpenSSL and nginx (`$ssl_client_serial`) print it. */
export function serialOf(certPem: string): string {
  return normalizeSerial(new X509Certificate(certPem).serialNumber);
}

/** Uppercase hex of the integer's magnitude, whole bytes, no leading zero bytes (OpenSSL's i2a_ASN1_INTEGER). */
function normalizeSerial(hex: string): string {
  const clean = hex.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(clean)) throw new Error(`pki: "${hex}" is not a hexadecimal serial number`);
  const bytes = clean.length % 2 === 1 ? `0${clean}` : clean;
  return bytes.replace(/^(00)+(?=..)/, '');
}

function readCaCertificate(certPem: string): { subject: forge.asn1.Asn1; subjectKeyId: string } {
  const cert = asn1.fromDer(forge.pem.decode(certPem)[0]!.body);
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  // tbsCertificate: [0] version (absent in v1), serial, signature, issuer, validity, subject, ...
  const first = tbs[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const subject = tbs[first + 4]!;
  const extensions = tbs.find((node) => node.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === 3);
  const ski = ((extensions?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value as forge.asn1.Asn1[] | undefined)?.find(
    (ext) => asn1.derToOid((ext.value as forge.asn1.Asn1[])[0]!.value as string) === OID.subjectKeyIdentifier,
  );
  if (!ski) throw new Error('pki: the CA certificate has no subjectKeyIdentifier, which the CRL\'s authorityKeyIdentifier repeats');
  const extnValue = (ski.value as forge.asn1.Asn1[]).at(-1)!.value as string;
  return { subject, subjectKeyId: asn1.fromDer(extnValue).value as string };
}

function signatureAlgorithm(key: KeyObject): forge.asn1.Asn1 {
  if (key.asymmetricKeyType === 'rsa') {
    return sequence([oid(OID.sha256WithRSAEncryption), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]);
  }
  if (key.asymmetricKeyType === 'ec') return sequence([oid(OID.ecdsaWithSHA256)]); // RFC 5758: no parameters
  throw new Error(`pki: cannot sign a CRL with a ${key.asymmetricKeyType} key (RSA or ECDSA only)`);
}

function revokedCertificate(entry: RevokedEntry, thisUpdate: Date): forge.asn1.Asn1 {
  const fields = [integerFromHex(normalizeSerial(entry.serialNumber)), time(entry.revokedAt ?? thisUpdate)];
  if (entry.reason !== undefined) {
    const reason = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.ENUMERATED, false, String.fromCharCode(CRL_REASONS[entry.reason]));
    fields.push(sequence([extension(OID.reasonCode, reason)]));
  }
  return sequence(fields);
}

function extension(id: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return sequence([oid(id), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes())]);
}

function sequence(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function oid(id: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

function integer(value: number): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}

/** A non-negative DER INTEGER: minimal bytes, with a 0x00 in front when the top bit is set. */
function integerFromHex(hex: string): forge.asn1.Asn1 {
  let bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes.toString('binary'));
}

/** RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}
