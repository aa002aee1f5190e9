import { issueClientCert, thumbprintS256 } from '../../testing/pki';
import { HttpError } from '../errors';
import { escapedCert, makeCerts } from '../../testing/provider-app-fixtures';
import { ClientCertificateCache } from './client-cert-cache';

const { alice, bob } = makeCerts();

describe('ClientCertificateCache', () => {
  it('never hands one header value the certificate parsed for another', () => {
    const cache = new ClientCertificateCache();
    expect(cache.parse(escapedCert(alice)).thumbprint).toBe(thumbprintS256(alice.certPem));
    const second = cache.parse(escapedCert(bob));
    expect(second.thumbprint).toBe(thumbprintS256(bob.certPem));
    expect(second.subject).toBe('CN=bob,O=Consumers');
    // And back again: the cached entries stay keyed by their own header value.
    expect(cache.parse(escapedCert(alice)).subject).toBe('CN=alice,O=Consumers');
    expect(cache.size).toBe(2);
  });

  it('reuses the parsed certificate for the same header value', () => {
    const cache = new ClientCertificateCache();
    expect(cache.parse(escapedCert(alice))).toBe(cache.parse(escapedCert(alice)));
  });

  it('stays within its bound, evicting the least recently used entry', () => {
    const { alice: a, bob: b, ca } = makeCerts();
    const c = issueClientCert(ca, { subject: { commonName: 'carol' } });
    const cache = new ClientCertificateCache(2);
    const first = cache.parse(escapedCert(a));
    cache.parse(escapedCert(b));
    cache.parse(escapedCert(a)); // a is now the most recent; b is evicted next
    cache.parse(escapedCert(c));
    expect(cache.size).toBe(2);
    expect(cache.parse(escapedCert(a))).toBe(first);
    expect(cache.size).toBe(2);
    // b was evicted: parsed again (a new object with the same content).
    const bAgain = cache.parse(escapedCert(b));
    expect(bAgain.thumbprint).toBe(thumbprintS256(b.certPem));
    expect(cache.size).toBe(2);
  });

  it('does not cache refusals: a bad header is refused every time', () => {
    const cache = new ClientCertificateCache();
    for (let i = 0; i < 2; i += 1) {
      expect(() => cache.parse('garbage')).toThrow(HttpError);
      expect(() => cache.parse(undefined)).toThrow(HttpError);
      expect(() => cache.parse('')).toThrow(HttpError);
    }
    expect(cache.size).toBe(0);
  });

  it('with 0 entries caches nothing', () => {
    const cache = new ClientCertificateCache(0);
    expect(cache.parse(escapedCert(alice))).not.toBe(cache.parse(escapedCert(alice)));
    expect(cache.size).toBe(0);
  });
});
