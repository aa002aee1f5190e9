import { thumbprintS256 } from '../../testing/pki';
import { createIb1Pki, issueIb1Client } from '../../testing/pki/ib1';
import { makeCerts } from '../../testing/provider-app-fixtures';
import { HttpError } from '../errors';
import { ClientCertificateCache } from '../middleware/client-cert-cache';
import { parseIb1ClientCertificate } from './ib1-client-cert';

const APP = 'https://directory.core.trust.ib1.org/application/a1';
const ROLE = 'https://registry.core.trust.ib1.org/scheme/electricity/role/report-provider';

function refusal(header: string | undefined): [number, string, string] {
  try {
    parseIb1ClientCertificate(header);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return [(error as HttpError).status, (error as HttpError).code, (error as HttpError).description];
  }
  throw new Error('expected a refusal');
}

describe('parseIb1ClientCertificate', () => {
  it('reads an ECDSA P-256 or P-384 member certificate: thumbprint, subject, validity and the IB1 identity', async () => {
    const { issuer } = await createIb1Pki();
    for (const keyAlgorithm of ['P-256', 'P-384'] as const) {
      const leaf = await issueIb1Client(issuer, { directoryUrl: APP, memberUrl: 'https://directory.core.trust.ib1.org/member/1', roles: [ROLE], keyAlgorithm });
      const cert = parseIb1ClientCertificate(encodeURIComponent(leaf.certPem));
      expect(cert.thumbprint).toBe(thumbprintS256(leaf.certPem));
      expect(cert.subject).toBe(`CN=${APP}`);
      expect(cert.notAfter.getTime()).toBeGreaterThan(Date.now());
      expect(cert.ib1).toMatchObject({ directoryUrl: APP, roles: [ROLE], memberUrl: 'https://directory.core.trust.ib1.org/member/1', keyAlgorithm: `EC ${keyAlgorithm}` });
    }
  });

  it('refuses an RSA key (400, naming what IB1 requires), a non-IB1 certificate (401) and no certificate (401, as open-energy)', async () => {
    const { issuer } = await createIb1Pki();
    const rsa = await issueIb1Client(issuer, { directoryUrl: APP, roles: [ROLE], keyAlgorithm: 'RSA' });
    expect(refusal(encodeURIComponent(rsa.certPem))).toEqual([400, 'invalid_request', 'ib1 requires an ECDSA P-256 or P-384 client certificate; this one has a key of type RSA']);
    const { alice } = makeCerts();
    expect(refusal(encodeURIComponent(alice.certPem))).toEqual([401, 'invalid_token', expect.stringMatching(/^the client certificate is not an IB1 member certificate: .*subjectAltName URI/)]);
    expect(refusal(undefined)).toEqual([401, 'invalid_token', 'a client certificate is required (mutual TLS)']);
  });

  it('behind the certificate cache: parsed once per header value, refusals never cached', async () => {
    const { issuer } = await createIb1Pki();
    const leaf = await issueIb1Client(issuer, { directoryUrl: APP, roles: [ROLE] });
    const rsa = await issueIb1Client(issuer, { directoryUrl: APP, roles: [ROLE], keyAlgorithm: 'RSA' });
    const cache = new ClientCertificateCache(10, parseIb1ClientCertificate);
    expect(cache.parse(encodeURIComponent(leaf.certPem))).toBe(cache.parse(encodeURIComponent(leaf.certPem)));
    for (let i = 0; i < 2; i += 1) expect(() => cache.parse(encodeURIComponent(rsa.certPem))).toThrow(/ECDSA P-256 or P-384/);
    expect(cache.size).toBe(1);
  });
});
