/**
 * issuerDn against the real thing: for each certificate, OpenSSL's own RFC 2253 printing
 * (`openssl x509 -noout -issuer -nameopt RFC2253`, the X509_NAME_print_ex call nginx makes
 * for $ssl_client_i_dn) must come out byte for byte. The expected strings are written out
 * too, so a change in either side shows as a readable diff.
 */
import { X509Certificate } from 'node:crypto';
import { issuerDn } from './issuer-dn';
import { attribute, name, opensslCertificate, opensslIssuer, rdn, removeScratch, tlv, withIssuer, type StringMask } from './test-support/openssl-names';

afterAll(removeScratch);

const CN = '2.5.4.3';
const O = '2.5.4.10';

function ours(pem: string): string {
  return issuerDn(new X509Certificate(pem));
}

describe('issuerDn: names as `openssl req -subj` writes them', () => {
  it.each<[string, string, StringMask, string]>([
    ['`,+"\\<>;` get a backslash; RDNs most specific first', '/C=GB/O=Trust, Framework\\+Test/OU=a"b\\\\c<d>e;f/CN=Issuing CA', 'utf8only', 'CN=Issuing CA,OU=a\\"b\\\\c\\<d\\>e\\;f,O=Trust\\, Framework\\+Test,C=GB'],
    ['a leading space or # and a trailing space are escaped; a lone # is not, a lone space is', '/O= lead/OU=#hash/CN=trail /L=#/ST= ', 'utf8only', 'ST=\\ ,L=#,CN=trail\\ ,OU=\\#hash,O=\\ lead'],
    ['= and / stay as they are', '/CN=x\\/y=z', 'utf8only', 'CN=x/y=z'],
    ['non-ASCII as \\XX of its UTF-8 bytes (UTF8String)', '/O=Bäcker/CN=Zoë 日本 😀', 'utf8only', 'CN=Zo\\C3\\AB \\E6\\97\\A5\\E6\\9C\\AC \\F0\\9F\\98\\80,O=B\\C3\\A4cker'],
    ['non-ASCII in a T61String: converted to UTF-8 first', '/O=Bäcker/CN=Zoë', 'nombstr', 'CN=Zo\\C3\\AB,O=B\\C3\\A4cker'],
    ['non-ASCII in a BMPString: converted to UTF-8 first', '/O=Bäcker/CN=日本', 'pkix', 'CN=\\E6\\97\\A5\\E6\\9C\\AC,O=B\\C3\\A4cker'],
    ['a multi-valued RDN: + inside it, its members reversed too', '/DC=example/DC=com/O=Org/CN=Alice+UID=a1+emailAddress=a@b.c', 'utf8only', 'emailAddress=a@b.c+UID=a1+CN=Alice,O=Org,DC=com,DC=example'],
    ["OpenSSL's short names", '/serialNumber=123/street=Main/organizationIdentifier=PSDGB-FCA-123/jurisdictionC=GB/emailAddress=ca@example.org/CN=CA', 'utf8only', 'CN=CA,emailAddress=ca@example.org,jurisdictionC=GB,organizationIdentifier=PSDGB-FCA-123,street=Main,serialNumber=123'],
    ['control characters as \\XX', `/CN=tab\tx/O=del\x7fx`, 'utf8only', 'O=del\\7Fx,CN=tab\\09x'],
  ])('%s', (_, subject, mask, expected) => {
    const pem = opensslCertificate(subject, mask);
    expect(opensslIssuer(pem)).toBe(expected);
    expect(ours(pem)).toBe(expected);
  });
});

describe('issuerDn: names only a hand-made DER has', () => {
  let base: string;
  beforeAll(() => {
    base = opensslCertificate('/CN=base');
  });

  it.each<[string, () => Buffer, string]>([
    ['an attribute OpenSSL does not know: dotted OID, value dumped as #DER', () => name(rdn(attribute('1.3.6.1.4.1.99999.1', tlv(0x13, 'private'))), rdn(attribute(CN, tlv(0x0c, 'x')))), 'CN=x,1.3.6.1.4.1.99999.1=#130770726976617465'],
    ['an OID arc beyond 2^53 printed whole', () => name(rdn(attribute('2.25.329800735698586629295641978511506172918', tlv(0x0c, 'u')))), '2.25.329800735698586629295641978511506172918=#0C0175'],
    ['a value that is no string type (SEQUENCE, BIT STRING): #DER', () => name(rdn(attribute(CN, tlv(0x30, tlv(0x0c, 'in')))), rdn(attribute(O, tlv(0x03, Buffer.from([0, 0xab]))))), 'O=#030200AB,CN=#30040C02696E'],
    ['a UniversalString, beyond the BMP too', () => name(rdn(attribute(CN, tlv(0x1c, Buffer.from([0, 0, 0, 0x42, 0, 0, 0, 0xe4, 0, 1, 0xf6, 0]))))), 'CN=B\\C3\\A4\\F0\\9F\\98\\80'],
    ['Latin-1 bytes in a T61String or PrintableString, control bytes among them', () => name(rdn(attribute(CN, tlv(0x14, Buffer.from([0x41, 0xe4, 0x0a, 0x7f])))), rdn(attribute(O, tlv(0x13, Buffer.from([0x41, 0xe9]))))), 'O=A\\C3\\A9,CN=A\\C3\\A4\\0A\\7F'],
    ['an empty value', () => name(rdn(attribute(CN, tlv(0x0c, ''))), rdn(attribute(O, tlv(0x13, 'O')))), 'O=O,CN='],
    ['first and last at once: "# ", " #", " ", "  "', () => name(rdn(attribute(CN, tlv(0x0c, '# '))), rdn(attribute(O, tlv(0x0c, ' #'))), rdn(attribute('2.5.4.11', tlv(0x0c, ' '))), rdn(attribute('2.5.4.7', tlv(0x0c, '  ')))), 'L=\\ \\ ,OU=\\ ,O=\\ #,CN=\\#\\ '],
    ['a multi-valued RDN in the order stored (not DER-sorted), reversed', () => name(rdn(attribute('0.9.2342.19200300.100.1.1', tlv(0x0c, 'uid')), attribute(CN, tlv(0x0c, 'cn')))), 'CN=cn+UID=uid'],
    ['emailAddress as an IA5String', () => name(rdn(attribute('1.2.840.113549.1.9.1', tlv(0x16, 'a@b'))), rdn(attribute(CN, tlv(0x13, 'p')))), 'CN=p,emailAddress=a@b'],
    ['more of the short names', () => name(rdn(attribute('2.5.4.46', tlv(0x13, 'q'))), rdn(attribute('2.5.4.65', tlv(0x0c, 'ps'))), rdn(attribute('0.9.2342.19200300.100.1.25', tlv(0x16, 'dc')))), 'DC=dc,pseudonym=ps,dnQualifier=q'],
    ['a $ is printed as it is (the deny list refuses it later)', () => name(rdn(attribute(CN, tlv(0x0c, 'a$b')))), 'CN=a$b'],
    ['no issuer at all: an empty string', () => name(), ''],
  ])('%s', (_, issuer, expected) => {
    const pem = withIssuer(base, issuer());
    expect(opensslIssuer(pem)).toBe(expected);
    expect(ours(pem)).toBe(expected);
  });

  it('a name OpenSSL will not read (a UTF8String that is not UTF-8) fails when the certificate is read, for OpenSSL and for us', () => {
    const pem = withIssuer(base, name(rdn(attribute(CN, tlv(0x0c, Buffer.from([0x41, 0xff]))))));
    expect(() => opensslIssuer(pem)).toThrow(/Could not read certificate/);
    expect(() => ours(pem)).toThrow(/invalid utf8string/);
  });
});
