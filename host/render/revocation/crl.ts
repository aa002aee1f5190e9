/**
 * One certificate revocation list: read it (DER or PEM), and decide whether it may be
 * installed for nginx — signed by a CA of the trust bundle, current, and free of
 * anything OpenSSL would refuse at handshake time (which would fail every client of
 * that CA, not just the revoked ones).
 *
 * Parsing uses @peculiar/x509. Signatures are checked with node:crypto instead of
 * x509's WebCrypto `verify`, so everything here is synchronous and needs no crypto
 * provider (Node 18 has no global `crypto`); the signed bytes are taken from the DER
 * as received, never re-encoded.
 */
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs it before it loads
import { createHash, verify as verifySignature, X509Certificate as NodeCertificate, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export class RevocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevocationError';
  }
}

export interface ParsedCrl {
  /** RFC 4514, most specific first, e.g. `CN=Issuing CA,O=Example` (as nginx's `$ssl_client_i_dn`). */
  readonly issuer: string;
  /** The CRL Number extension; absent in a v1 CRL. */
  readonly crlNumber: bigint | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Uppercase hex without leading zero bytes, as nginx prints `$ssl_client_serial`. */
  readonly revokedSerials: readonly string[];
  /** The Authority Key Identifier's keyIdentifier, uppercase hex. */
  readonly authorityKeyId: string | undefined;
  readonly der: Buffer;
  /** The DER re-wrapped as one `X509 CRL` PEM block (64-column base64, trailing newline). */
  readonly pem: string;
  /** SHA-256 of the DER, lowercase hex: identifies this exact CRL in logs and status. */
  readonly sha256: string;
}

/** What verification needs beyond the plain fields, kept out of them so a ParsedCrl stays plain data. */
interface CrlInternals {
  readonly crl: x509.X509Crl;
  /** The signed bytes exactly as received. */
  readonly tbs: Buffer;
  readonly signature: Buffer;
}

const internalsOf = new WeakMap<ParsedCrl, CrlInternals>();

/** Cached at parse time; rebuilt from the DER for a ParsedCrl made some other way (a copy, say). */
function internals(crl: ParsedCrl): CrlInternals {
  const known = internalsOf.get(crl);
  if (known) return known;
  const rebuilt = readInternals(crl.der);
  internalsOf.set(crl, rebuilt);
  return rebuilt;
}

/** A CA certificate of the trust bundle, as far as CRL checks need it. */
export interface BundleCertificate {
  /** RFC 4514, most specific first. */
  readonly subject: string;
  /** Uppercase hex; absent when the certificate has no subjectKeyIdentifier. */
  readonly subjectKeyId: string | undefined;
  /** SHA-256 of the DER, uppercase colon-separated (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint: string;
  /** False when a keyUsage extension is present without cRLSign: no CRL it signs counts. */
  readonly canSignCrls: boolean;
  readonly crlDistributionPoints: readonly string[];
  readonly publicKey: KeyObject;
}

// "X509 CRL" is what OpenSSL (so nginx) reads; "CRL" is what some tools, @peculiar/x509 among them, write.
const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/g;
const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const OID_CRL_NUMBER = '2.5.29.20';
const OID_DELTA_CRL_INDICATOR = '2.5.29.27';
/** CRL extensions OpenSSL understands; a critical one outside this list makes it refuse the CRL. */
const HANDLED_CRL_EXTENSIONS = new Set([
  '2.5.29.35', // authorityKeyIdentifier
  OID_CRL_NUMBER,
  OID_DELTA_CRL_INDICATOR,
  '2.5.29.28', // issuingDistributionPoint
  '2.5.29.46', // freshestCRL
]);
/** How far a CRL's thisUpdate may lie ahead of our clock (the publisher's clock may run ahead). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Reads exactly one CRL, DER or PEM. Anything else throws a {@link RevocationError} saying why. */
export function parseCrl(bytes: Uint8Array | string): ParsedCrl {
  // DER starts with a SEQUENCE tag; anything else that holds a PEM block (text may come first, as `openssl crl -text` writes) is PEM.
  const text = typeof bytes === 'string' ? bytes : bytes[0] !== 0x30 && containsPem(bytes) ? Buffer.from(bytes).toString('latin1') : undefined;
  if (text === undefined) return parseDer(Buffer.from(bytes as Uint8Array));
  const blocks = pemBlocks(text, PEM_CRL);
  if (blocks.length !== 1) {
    throw new RevocationError(blocks.length === 0 ? 'not a CRL: no -----BEGIN X509 CRL----- block' : `expected one CRL, found ${blocks.length} PEM blocks`);
  }
  return parseDer(blocks[0]!);
}

/** Reads every `X509 CRL` PEM block of a file such as the installed crl.pem, in order. */
export function parseCrlPems(text: string): ParsedCrl[] {
  return pemBlocks(text, PEM_CRL).map(parseDer);
}

/** The CA certificates of a PEM trust bundle (text between blocks is ignored). End-entity certificates are left out. */
export function bundleCertificates(trustBundlePem: string): BundleCertificate[] {
  return allCertificates(trustBundlePem).filter((cert) => cert.isCa);
}

/** http(s) URLs from the cRLDistributionPoints of every certificate in the bundle, first occurrence kept. */
export function crlDistributionPoints(trustBundlePem: string): string[] {
  return [...new Set(allCertificates(trustBundlePem).flatMap((cert) => cert.crlDistributionPoints))];
}

/**
 * Checks `crl` as something to install now: issued and signed by a CA of the bundle,
 * current at `now`. Throws a {@link RevocationError} naming the first problem.
 */
export function verifyCrl(crl: ParsedCrl, trustBundlePem: string, now: Date): { issuerSubject: string; issuerFingerprint: string } {
  const issuer = findCrlIssuer(crl, bundleCertificates(trustBundlePem));
  checkCrlTimes(crl, now);
  return { issuerSubject: issuer.subject, issuerFingerprint: issuer.fingerprint };
}

/**
 * The CA among `cas` that issued and signed `crl`: same name (compared the way OpenSSL
 * does, ignoring case and extra spaces), same key identifier when both carry one, and
 * a signature its key verifies. Time is not looked at: an installed CRL that has
 * expired still belongs to its CA.
 */
export function findCrlIssuer(crl: ParsedCrl, cas: readonly BundleCertificate[]): BundleCertificate {
  checkContent(crl);
  const named = cas.filter((ca) => sameName(ca.subject, crl.issuer));
  if (named.length === 0) throw new RevocationError(`no CA in the trust bundle is named ${crl.issuer}`);
  const keyed = named.filter((ca) => !crl.authorityKeyId || !ca.subjectKeyId || ca.subjectKeyId === crl.authorityKeyId);
  if (keyed.length === 0) throw new RevocationError(`no CA named ${crl.issuer} in the trust bundle has key identifier ${crl.authorityKeyId}`);
  const signers = keyed.filter((ca) => ca.canSignCrls);
  if (signers.length === 0) throw new RevocationError(`the CA ${crl.issuer} may not sign CRLs (its keyUsage lacks cRLSign)`);
  const hash = signatureHash(crl);
  const issuer = signers.find((ca) => signatureValid(crl, hash, ca.publicKey));
  if (!issuer) throw new RevocationError(`bad signature: not signed by the key of ${crl.issuer} in the trust bundle`);
  return issuer;
}

/** Refuses a CRL without nextUpdate, past its nextUpdate, or issued noticeably in the future. */
export function checkCrlTimes(crl: ParsedCrl, now: Date): void {
  if (!crl.nextUpdate) throw new RevocationError('has no nextUpdate, so nothing says when it goes stale');
  if (crl.nextUpdate.getTime() <= now.getTime()) throw new RevocationError(`expired at ${crl.nextUpdate.toISOString()}`);
  if (crl.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw new RevocationError(`thisUpdate ${crl.thisUpdate.toISOString()} is in the future (the publisher's or this host's clock is wrong)`);
  }
}

function checkContent(crl: ParsedCrl): void {
  const extensions = internals(crl).crl.extensions;
  // nginx does not enable delta CRLs; installed as a full CRL, a delta would un-revoke everything it omits.
  if (extensions.some((ext) => ext.type === OID_DELTA_CRL_INDICATOR)) throw new RevocationError('is a delta CRL; only complete CRLs are installed');
  const unknown = extensions.find((ext) => ext.critical && !HANDLED_CRL_EXTENSIONS.has(ext.type));
  // OpenSSL would refuse it at handshake time and so fail every client of that CA.
  if (unknown) throw new RevocationError(`has a critical extension OpenSSL does not handle (${unknown.type})`);
}

/** The node:crypto digest for the CRL's signature algorithm; null for Ed25519, which takes none. */
function signatureHash(crl: ParsedCrl): string | null {
  let algorithm: { name: string; hash?: { name: string } };
  try {
    algorithm = internals(crl).crl.signatureAlgorithm as { name: string; hash?: { name: string } };
  } catch (error) {
    throw new RevocationError(`unsupported signature algorithm (${(error as Error).message})`);
  }
  if (algorithm.name === 'Ed25519') return null;
  const hash = algorithm.hash?.name;
  if ((algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'ECDSA') && hash && ['SHA-256', 'SHA-384', 'SHA-512'].includes(hash)) {
    return hash.replace('-', '').toLowerCase();
  }
  throw new RevocationError(`unsupported signature algorithm ${algorithm.name}${hash ? ` with ${hash}` : ''} (RSA PKCS#1 v1.5, ECDSA with SHA-2, or Ed25519)`);
}

function signatureValid(crl: ParsedCrl, hash: string | null, key: KeyObject): boolean {
  try {
    const { tbs, signature } = internals(crl);
    return verifySignature(hash, tbs, key, signature);
  } catch {
    return false; // e.g. an RSA signature offered to an EC key
  }
}

function containsPem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('-----BEGIN ');
}

function pemBlocks(text: string, pattern: RegExp): Buffer[] {
  return [...text.matchAll(pattern)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

function readInternals(der: Buffer): CrlInternals {
  // Framing first: handed bytes that are not DER, the library would try them as hex or base64 text.
  const parts = certificateListParts(der);
  let crl: x509.X509Crl;
  try {
    // A copy: the library may read the whole ArrayBuffer behind a view, and Buffers share a pool.
    crl = new x509.X509Crl(new Uint8Array(der));
  } catch (error) {
    throw new RevocationError(`not a CRL: ${(error as Error).message}`);
  }
  // RFC 5280 §5.1.1.2: the algorithm outside must equal the one signed inside; OpenSSL checks it too.
  if (!parts.innerAlgorithm?.equals(parts.outerAlgorithm)) {
    throw new RevocationError('not a CRL: the signature algorithm differs inside and outside the signed part');
  }
  return { crl, tbs: parts.tbs, signature: parts.signature };
}

function parseDer(der: Buffer): ParsedCrl {
  const parts = readInternals(der);
  const { crl } = parts;
  const numberExtension = crl.extensions.find((ext) => ext.type === OID_CRL_NUMBER);
  const parsed: ParsedCrl = {
    issuer: rfc4514(crl.issuerName),
    crlNumber: numberExtension ? readInteger(Buffer.from(numberExtension.value)) : undefined,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revokedSerials: crl.entries.map((entry) => normalizeSerial(entry.serialNumber)),
    authorityKeyId: crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId?.toUpperCase(),
    der,
    pem: toPem(der, 'X509 CRL'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
  internalsOf.set(parsed, parts);
  return parsed;
}

/** Uppercase hex of the magnitude in whole bytes without leading zero bytes: OpenSSL's i2a_ASN1_INTEGER. */
export function normalizeSerial(hex: string): string {
  const upper = hex.toUpperCase();
  return (upper.length % 2 === 1 ? `0${upper}` : upper).replace(/^(00)+(?=..)/, '');
}

function toPem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}

interface Tlv {
  readonly tag: number;
  /** The whole element, header included. */
  readonly element: Buffer;
  readonly content: Buffer;
}

/** One DER element at `offset` (definite lengths only, as DER requires). */
function readTlv(buf: Buffer, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new RevocationError('not a CRL: truncated DER');
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || offset + 2 + count > buf.length) throw new RevocationError('not a CRL: bad DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new RevocationError('not a CRL: truncated DER');
  return { tag, element: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

function children(content: Buffer): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = 0; offset < content.length; offset += items.at(-1)!.element.length) items.push(readTlv(content, offset));
  return items;
}

/** CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }, checked strictly. */
function certificateListParts(der: Buffer): { tbs: Buffer; signature: Buffer; outerAlgorithm: Buffer; innerAlgorithm: Buffer | undefined } {
  if (der.length === 0 || der[0] !== 0x30) throw new RevocationError(`not a CRL: neither PEM nor DER (starts with 0x${der.subarray(0, 1).toString('hex') || 'nothing'})`);
  const outer = readTlv(der, 0);
  if (outer.element.length !== der.length) throw new RevocationError(`not a CRL: ${der.length - outer.element.length} bytes after the DER`);
  const [tbs, algorithm, signature] = children(outer.content);
  if (!tbs || tbs.tag !== 0x30 || !algorithm || !signature || signature.tag !== 0x03) throw new RevocationError('not a CRL: not a CertificateList');
  const tbsItems = children(tbs.content);
  const inner = tbsItems[0]?.tag === 0x02 ? tbsItems[1] : tbsItems[0]; // after the optional version
  return {
    tbs: Buffer.from(tbs.element),
    signature: Buffer.from(signature.content.subarray(1)), // after the unused-bits octet
    outerAlgorithm: algorithm.element,
    innerAlgorithm: inner?.element,
  };
}

function readInteger(extnValue: Buffer): bigint {
  const tlv = readTlv(extnValue, 0);
  if (tlv.tag !== 0x02 || tlv.content.length === 0) throw new RevocationError('not a CRL: the CRL Number is not an INTEGER');
  return BigInt(`0x${tlv.content.toString('hex')}`);
}

/** RFC 4514: RDNs most specific first, `,` between them, `+` inside one, special characters escaped. */
function rfc4514(name: x509.Name): string {
  return name
    .toJSON()
    .reverse()
    .map((rdn) =>
      Object.entries(rdn)
        .flatMap(([type, values]) => values.map((value) => `${type}=${escapeValue(value)}`))
        .join('+'),
    )
    .join(',');
}

function escapeValue(value: string): string {
  if (value.startsWith('#')) return value; // x509 already gives unknown types as #hex
  return value.replace(/[,+"\\<>;]/g, '\\$&').replace(/^ | $/g, '\\ ');
}

/** OpenSSL compares names in a canonical form: case-insensitive, runs of spaces collapsed. */
function sameName(a: string, b: string): boolean {
  const canonical = (dn: string) => dn.toLowerCase().replace(/\s+/g, ' ');
  return canonical(a) === canonical(b);
}

interface ParsedCertificate extends BundleCertificate {
  readonly isCa: boolean;
}

function allCertificates(trustBundlePem: string): ParsedCertificate[] {
  const seen = new Set<string>();
  return pemBlocks(trustBundlePem, PEM_CERT).flatMap((der, index) => {
    const cert = parseCertificate(der, index);
    if (seen.has(cert.fingerprint)) return [];
    seen.add(cert.fingerprint);
    return [cert];
  });
}

function parseCertificate(der: Buffer, index: number): ParsedCertificate {
  let cert: x509.X509Certificate;
  let native: NodeCertificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der));
    native = new NodeCertificate(der);
  } catch (error) {
    throw new RevocationError(`trust bundle: certificate #${index + 1} cannot be read (${(error as Error).message})`);
  }
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  const distribution = cert.getExtension(x509.CRLDistributionPointsExtension);
  return {
    subject: rfc4514(cert.subjectName),
    subjectKeyId: cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId.toUpperCase(),
    fingerprint: native.fingerprint256,
    // A v1 root has no basicConstraints at all; only an explicit cA=false marks an end entity.
    isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? true,
    canSignCrls: !keyUsage || (keyUsage.usages & x509.KeyUsageFlags.cRLSign) !== 0,
    crlDistributionPoints: (distribution?.distributionPoints ?? [])
      .flatMap((point) => point.distributionPoint?.fullName ?? [])
      .flatMap((name) => (name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : []))
      .filter((url) => /^https?:\/\//i.test(url)),
    publicKey: native.publicKey,
  };
}
