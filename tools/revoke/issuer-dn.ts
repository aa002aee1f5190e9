/**
 * A certificate's issuer exactly as nginx's `$ssl_client_i_dn` prints it — the access
 * log's client_issuer, the deny list's `issuer`. nginx calls OpenSSL's
 * X509_NAME_print_ex(..., XN_FLAG_RFC2253), which is not RFC 4514 as libraries print it:
 *   - every entry in reverse (XN_FLAG_DN_REV), the members of a multi-valued RDN too:
 *     stored `CN=Alice + UID=a1` prints `UID=a1+CN=Alice`;
 *   - OpenSSL's short names (emailAddress, not E; jurisdictionC...); an attribute OpenSSL
 *     does not know is its dotted OID, its value dumped as `#` + DER hex;
 *   - ESC_2253: `,+"\<>;` get a backslash, so do a leading `#` or space and a trailing
 *     space; a one-character value counts as last only, so a lone `#` stays bare;
 *   - ESC_CTRL, ESC_MSB: control characters and every byte ≥ 0x80 of the UTF-8 as `\XX`
 *     (`Bäcker` → `B\C3\A4cker`), after UTF8_CONVERT made UTF-8 of the string type's
 *     characters (a UTF8String is taken byte by byte, as it is);
 *   - a value of a type that is not a string type (a SEQUENCE, a BIT STRING): `#` + DER hex.
 * issuer-dn.test.ts proves it against `openssl x509 -noout -issuer -nameopt RFC2253`.
 */
import type { X509Certificate } from 'node:crypto';
import { CertificateNameError, issuerEntries, type NameEntry } from './issuer-entries';

/**
 * OpenSSL's tag2nbyte: bytes per character by universal tag, for the string types it
 * prints as text. 0: UTF8String, which with UTF8_CONVERT is read a byte at a time.
 */
const CHARACTER_WIDTH: ReadonlyMap<number, 0 | 1 | 2 | 4> = new Map([
  [0x0c, 0], // UTF8String
  [0x12, 1], // NumericString
  [0x13, 1], // PrintableString
  [0x14, 1], // T61String: each byte one character, Latin-1 as OpenSSL converts it
  [0x16, 1], // IA5String
  [0x17, 1], // UTCTime
  [0x18, 1], // GeneralizedTime
  [0x1a, 1], // VisibleString
  [0x1c, 4], // UniversalString (UCS-4)
  [0x1e, 2], // BMPString (UCS-2)
]);

const BACKSLASHED = new Set([...',+"\\<>;'].map((c) => c.charCodeAt(0)));
const SPACE = 0x20;
const HASH = 0x23;

const hex = (bytes: Iterable<number>): string => [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');

/** OpenSSL's do_esc_char with ESC_2253 | ESC_CTRL | ESC_MSB, for one output byte. */
function escapeByte(byte: number, first: boolean, last: boolean): string {
  if (byte >= 0x80 || byte < 0x20 || byte === 0x7f) return `\\${hex([byte])}`;
  if (BACKSLASHED.has(byte) || (first && (byte === HASH || byte === SPACE)) || (last && byte === SPACE)) return `\\${String.fromCharCode(byte)}`;
  return String.fromCharCode(byte);
}

/** The value's characters, each as the UTF-8 bytes OpenSSL writes for it. */
function characters(width: 0 | 1 | 2 | 4, content: Buffer): number[][] {
  if (width === 0) return [...content].map((byte) => [byte]);
  // Whole characters only: as with the code points below, OpenSSL would not have read the certificate.
  if (content.length % width !== 0) throw new CertificateNameError(`an issuer value is not whole ${width}-byte characters`);
  const chars: number[][] = [];
  for (let offset = 0; offset < content.length; offset += width) {
    const codePoint = content.readUIntBE(offset, width);
    // OpenSSL (node:crypto too) refuses to read such a certificate at all; a guard, not a case.
    if ((codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) {
      throw new CertificateNameError(`an issuer value holds U+${codePoint.toString(16).toUpperCase()}, which is not a Unicode character`);
    }
    chars.push([...Buffer.from(String.fromCodePoint(codePoint), 'utf8')]);
  }
  return chars;
}

function printValue(entry: NameEntry, known: boolean): string {
  const width = CHARACTER_WIDTH.get(entry.tag);
  // XN_FLAG_DUMP_UNKNOWN_FIELDS and ASN1_STRFLGS_DUMP_UNKNOWN | DUMP_DER.
  if (!known || width === undefined) return `#${hex(entry.element)}`;
  const chars = characters(width, entry.content);
  return chars
    .map((bytes, i) => {
      // do_buf: the first character is "first", the last one "last"; a lone one is last only.
      const last = i === chars.length - 1;
      const first = i === 0 && !last;
      return bytes.map((byte) => escapeByte(byte, first, last)).join('');
    })
    .join('');
}

/**
 * OpenSSL's short name of each entry. node:crypto is OpenSSL: X509Certificate.issuer
 * prints the same entries with XN_FLAG_FN_SN, one RDN per line and ` + ` inside one, in
 * DER order. Only the names are taken from it (a name holds no `=`; `\n` and `+` in a
 * value are escaped there, so the split is exact); its values have lost what ESC_MSB and
 * the dumps need, so those come from the DER.
 */
function opensslNames(printed: string, entries: readonly NameEntry[]): string[] {
  const names = printed === '' ? [] : printed.split('\n').flatMap((line) => line.split(' + ')).map((entry) => entry.slice(0, entry.indexOf('=')));
  if (names.length !== entries.length || names.some((name, i) => name === '' || (/^[0-9.]+$/.test(name) && name !== entries[i]!.oid))) {
    throw new CertificateNameError('the issuer name reads differently in the DER and in OpenSSL');
  }
  return names;
}

/** The issuer of `certificate` as nginx's `$ssl_client_i_dn` (OpenSSL's RFC 2253 printing). */
export function issuerDn(certificate: X509Certificate): string {
  const entries = issuerEntries(certificate.raw);
  // node:crypto gives no issuer string at all for an empty issuer Name.
  const names = opensslNames((certificate.issuer as string | undefined) ?? '', entries);
  let dn = '';
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (i < entries.length - 1) dn += entries[i + 1]!.rdn === entry.rdn ? '+' : ',';
    // OpenSSL names an attribute it does not know by its dotted OID, and then dumps the value.
    const known = names[i] !== entry.oid;
    dn += `${names[i]}=${printValue(entry, known)}`;
  }
  return dn;
}
