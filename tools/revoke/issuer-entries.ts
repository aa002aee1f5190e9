/**
 * A certificate's issuer Name as stored: each attribute with its OID, the RDN it belongs
 * to, and its value's tag and bytes, in DER order. OpenSSL prints a name from exactly
 * these (the string type decides how bytes become characters; other types are dumped as
 * DER), so they are read from the certificate's DER rather than from a library's decoded
 * and re-typed view of it.
 */

export interface NameEntry {
  /** The attribute type, dotted (2.5.4.3 for CN). */
  readonly oid: string;
  /** Which RDN (SET) it belongs to, counted from the first in the DER. */
  readonly rdn: number;
  /** The value's identifier octet: 0x0c UTF8String, 0x13 PrintableString, 0x1e BMPString... */
  readonly tag: number;
  /** The value's content octets. */
  readonly content: Buffer;
  /** The whole value element, header included (what OpenSSL dumps as `#hex`). */
  readonly element: Buffer;
}

export class CertificateNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateNameError';
  }
}

interface Tlv {
  readonly tag: number;
  readonly element: Buffer;
  readonly content: Buffer;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** One element at `offset`: single-octet tags and definite lengths only, as DER has them in a Name. */
function readTlv(buf: Buffer, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new CertificateNameError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new CertificateNameError(`a multi-octet tag at byte ${offset}`);
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || offset + 2 + count > buf.length) throw new CertificateNameError(`a bad DER length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new CertificateNameError('truncated DER');
  return { tag, element: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

function children(content: Buffer): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = 0; offset < content.length; offset += items.at(-1)!.element.length) items.push(readTlv(content, offset));
  return items;
}

function must(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new CertificateNameError(`not a certificate: no ${what}`);
  return tlv;
}

/** Dotted form; BigInt because arcs (a UUID under 2.25, say) may exceed 2^53, and OpenSSL prints them whole. */
function dottedOid(content: Buffer): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (byte & 0x80) continue;
    arcs.push(value);
    value = 0n;
  }
  if (arcs.length === 0 || content.at(-1)! & 0x80) throw new CertificateNameError('a malformed attribute OID in the issuer');
  const first = arcs[0]!;
  const [top, second] = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [top, second, ...arcs.slice(1)].join('.');
}

/** The issuer's entries of the certificate `der`, in DER order. */
export function issuerEntries(der: Buffer): NameEntry[] {
  const certificate = must(readTlv(der, 0), SEQUENCE, 'Certificate SEQUENCE');
  const tbs = must(children(certificate.content)[0], SEQUENCE, 'tbsCertificate');
  const fields = children(tbs.content);
  // tbsCertificate: [0] version (absent in v1), serialNumber, signature, issuer, ...
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const issuer = must(fields[first + 2], SEQUENCE, 'issuer Name');
  return children(issuer.content).flatMap((rdn, index) =>
    children(must(rdn, SET, 'RDN SET in the issuer').content).map((attribute) => {
      const [type, value, extra] = children(must(attribute, SEQUENCE, 'AttributeTypeAndValue in the issuer').content);
      if (!value || extra) throw new CertificateNameError('an issuer attribute is not a type and one value');
      return { oid: dottedOid(must(type, OID, 'attribute OID in the issuer').content), rdn: index, tag: value.tag, content: value.content, element: value.element };
    }),
  );
}
