import { thumbprintS256 } from '../../testing/pki';
import { HttpError } from '../errors';
import { escapedCert, legacyCert, legacyCertUnfolded, makeCerts } from '../../testing/provider-app-fixtures';
import { parseClientCertificate } from './client-cert';

const { alice } = makeCerts();

describe('parseClientCertificate', () => {
  it('reads nginx $ssl_client_escaped_cert (URL-encoded PEM)', () => {
    const cert = parseClientCertificate(escapedCert(alice));
    expect(cert.thumbprint).toBe(thumbprintS256(alice.certPem));
    expect(cert.subject).toBe('CN=alice,O=Consumers');
  });

  it('reads the legacy tab-indented $ssl_client_cert form', () => {
    const header = legacyCert(alice);
    expect(header).toContain('\n\t');
    expect(parseClientCertificate(header).thumbprint).toBe(thumbprintS256(alice.certPem));
    // What Node hands the app after unfolding the header (see `legacyCertHeader` in the config).
    expect(parseClientCertificate(legacyCertUnfolded(alice)).thumbprint).toBe(thumbprintS256(alice.certPem));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a certificate', 'hello'],
    ['broken escaping', '%E0%A4%A'],
    ['garbage inside PEM armour', encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')],
  ])('rejects a %s header with 401', (_label, value) => {
    try {
      parseClientCertificate(value);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).status).toBe(401);
    }
  });
});
