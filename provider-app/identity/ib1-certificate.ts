/**
 * Reads who an IB1 client certificate (Member Identity Digital Certificates 1.0) says the
 * client is: the Application's Directory URL (subject CN and the single URI SAN, which
 * must agree), the Member's Directory URL (`ib1Member`) and the Roles in use (`ib1Roles`).
 *
 * It reads; it does not trust. Chain, validity and revocation are nginx's job before the
 * certificate reaches the app; which roles or key algorithms to accept is the policy's.
 *
 * API
 * - `readIb1Identity(certPem)` → {@link Ib1Identity}, or throws {@link Ib1CertificateError}
 * - `readIb1IdentityFromHeader(value)` → the same from nginx's `$ssl_client_escaped_cert`
 */
import 'reflect-metadata';
import { createHash, X509Certificate as NodeX509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';

/** `ib1Roles`: SEQUENCE OF UTF8String. */
export const IB1_ROLES_OID = '1.3.6.1.4.1.62329.1.1';
/** `ib1Member`: UTF8String. */
export const IB1_MEMBER_OID = '1.3.6.1.4.1.62329.1.3';

/** The certificate's public key, named for a policy to compare against (IB1 wants EC P-256). */
export type KeyAlgorithmName = 'EC P-256' | 'EC P-384' | 'EC P-521' | `EC ${string}` | 'RSA' | 'RSA-PSS' | 'Ed25519' | 'Ed448' | `other ${string}`;

export interface Ib1Identity {
  /** The Application's Directory URL: what the token's `client_id` must equal. */
  readonly directoryUrl: string;
  /** The subject CN exactly as found (equal to `directoryUrl`, or this would have thrown). */
  readonly subjectCn: string;
  /** From `ib1Member`; absent when the certificate has no such extension. */
  readonly memberUrl?: string;
  /** From `ib1Roles`, in certificate order; empty when the extension is absent. */
  readonly roles: readonly string[];
  readonly keyAlgorithm: KeyAlgorithmName;
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER)), for a token's `cnf`. */
  readonly thumbprintS256: string;
}

export type Ib1CertificateProblem =
  | 'no_certificate'
  | 'unreadable_certificate'
  | 'no_subject_cn'
  | 'multiple_subject_cn'
  | 'no_san_uri'
  | 'multiple_san_uris'
  | 'cn_mismatch'
  | 'duplicate_extension'
  | 'malformed_roles'
  | 'malformed_member';

/** Why a certificate does not identify an IB1 client; `problem` is stable, `message` is for people. */
export class Ib1CertificateError extends Error {
  constructor(
    readonly problem: Ib1CertificateProblem,
    message: string,
  ) {
    super(message);
    this.name = 'Ib1CertificateError';
  }
}

const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/** Values come from the client: escaped and shortened before they go into a message. */
function show(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

function derOf(certPem: string): Buffer {
  const match = PEM.exec(certPem);
  if (!match) throw new Ib1CertificateError('unreadable_certificate', 'the client certificate is not a PEM certificate');
  // Base64 ignores the whitespace (newlines, nginx's legacy tabs) the PEM body may carry.
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

function keyAlgorithmOf(der: Buffer): KeyAlgorithmName {
  const key = new NodeX509Certificate(der).publicKey;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      const nist: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
      return `EC ${nist[curve] ?? curve}`;
    }
    case 'rsa':
      return 'RSA';
    case 'rsa-pss':
      return 'RSA-PSS';
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return `other ${key.asymmetricKeyType ?? 'unknown'}`;
  }
}

/** One BER element that fills `bytes` exactly (trailing bytes would be a second value). */
function parseWhole(bytes: ArrayBuffer): asn1js.AsnType | undefined {
  const parsed = asn1js.fromBER(bytes);
  return parsed.offset === bytes.byteLength ? parsed.result : undefined;
}

function readRoles(value: ArrayBuffer): string[] {
  const parsed = parseWhole(value);
  if (!(parsed instanceof asn1js.Sequence)) {
    throw new Ib1CertificateError('malformed_roles', `ib1Roles (${IB1_ROLES_OID}) is not a SEQUENCE of UTF8String`);
  }
  return parsed.valueBlock.value.map((item, index) => {
    if (!(item instanceof asn1js.Utf8String)) {
      throw new Ib1CertificateError('malformed_roles', `ib1Roles (${IB1_ROLES_OID}) item ${index + 1} is not a UTF8String`);
    }
    return item.getValue();
  });
}

function readMember(value: ArrayBuffer): string {
  const parsed = parseWhole(value);
  if (!(parsed instanceof asn1js.Utf8String)) {
    throw new Ib1CertificateError('malformed_member', `ib1Member (${IB1_MEMBER_OID}) is not a UTF8String`);
  }
  return parsed.getValue();
}

/** The single value of an extension, or undefined; X.509 allows each extension once. */
function extensionValue(cert: x509.X509Certificate, oid: string, name: string): ArrayBuffer | undefined {
  const found = cert.getExtensions(oid);
  if (found.length > 1) throw new Ib1CertificateError('duplicate_extension', `the client certificate has ${name} (${oid}) ${found.length} times`);
  return found[0]?.value;
}

/**
 * The IB1 identity in a client certificate (PEM; the first certificate if there are more).
 * Throws {@link Ib1CertificateError} naming the first thing that is wrong.
 */
export function readIb1Identity(certPem: string): Ib1Identity {
  const der = derOf(certPem);
  let cert: x509.X509Certificate;
  let keyAlgorithm: KeyAlgorithmName;
  try {
    cert = new x509.X509Certificate(der);
    keyAlgorithm = keyAlgorithmOf(der);
  } catch {
    throw new Ib1CertificateError('unreadable_certificate', 'the client certificate could not be parsed as X.509');
  }

  const cns = cert.subjectName.getField('CN');
  if (cns.length === 0) throw new Ib1CertificateError('no_subject_cn', 'the client certificate subject has no CN');
  if (cns.length > 1) throw new Ib1CertificateError('multiple_subject_cn', `the client certificate subject has ${cns.length} CNs`);
  const subjectCn = cns[0]!;

  if (cert.getExtensions(x509.SubjectAlternativeNameExtension).length > 1) {
    throw new Ib1CertificateError('duplicate_extension', 'the client certificate has more than one subjectAltName extension');
  }
  // Other SAN types may be present; the spec identifies the client by its one URI.
  const uris = (cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).filter((name) => name.type === 'url').map((name) => name.value);
  if (uris.length === 0) throw new Ib1CertificateError('no_san_uri', 'the client certificate has no subjectAltName URI (the Application Directory URL)');
  if (uris.length > 1) {
    throw new Ib1CertificateError('multiple_san_uris', `the client certificate has ${uris.length} subjectAltName URIs (${uris.map(show).join(', ')}); IB1 allows one`);
  }
  const directoryUrl = uris[0]!;
  // Exact comparison: the token's client_id is compared the same way, so no normalising here.
  if (subjectCn !== directoryUrl) {
    throw new Ib1CertificateError('cn_mismatch', `the client certificate subject CN ${show(subjectCn)} is not its subjectAltName URI ${show(directoryUrl)}`);
  }

  const rolesValue = extensionValue(cert, IB1_ROLES_OID, 'ib1Roles');
  const memberValue = extensionValue(cert, IB1_MEMBER_OID, 'ib1Member');
  const memberUrl = memberValue === undefined ? undefined : readMember(memberValue);
  return {
    directoryUrl,
    subjectCn,
    ...(memberUrl === undefined ? {} : { memberUrl }),
    roles: rolesValue === undefined ? [] : readRoles(rolesValue),
    keyAlgorithm,
    thumbprintS256: createHash('sha256').update(der).digest('base64url'),
  };
}

/**
 * The same from the header nginx sets: `$ssl_client_escaped_cert` (URL-encoded PEM) or the
 * legacy `$ssl_client_cert` (PEM with tab-indented lines), as `parseClientCertificate`
 * (middleware/client-cert.ts) accepts them for the open-energy profile.
 */
export function readIb1IdentityFromHeader(headerValue: string | undefined): Ib1Identity {
  if (headerValue === undefined || headerValue.trim() === '') {
    throw new Ib1CertificateError('no_certificate', 'a client certificate is required (mutual TLS)');
  }
  let text = headerValue;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new Ib1CertificateError('unreadable_certificate', 'the client certificate header could not be URL-decoded');
    }
  }
  return readIb1Identity(text);
}
