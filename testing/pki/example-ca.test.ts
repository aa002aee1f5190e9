/** The example trust bundle is what `npm run example-ca` makes: marked as an example, a CA certificate, no key. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/project-paths';
import { EXAMPLE_CA_HEADER, exampleTrustBundle } from './example-ca';

const committed = readFileSync(join(PROJECT_ROOT, 'config', 'examples', 'trust-bundle.example.pem'), 'utf8');

function certificateIn(text: string): X509Certificate {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  expect(pems).toHaveLength(1);
  return new X509Certificate(pems[0]!);
}

describe('the example trust bundle (config/examples/trust-bundle.example.pem)', () => {
  it('carries the generator\'s EXAMPLE header, one self-signed CA certificate and no private key', () => {
    expect(committed.startsWith(EXAMPLE_CA_HEADER)).toBe(true);
    expect(committed).not.toMatch(/PRIVATE KEY/);
    const cert = certificateIn(committed);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe(cert.issuer);
    expect(cert.checkIssued(cert)).toBe(true);
  });

  it('has the subject the generator writes, so regenerating it changes only the key and dates', () => {
    const fresh = exampleTrustBundle();
    expect(fresh.startsWith(EXAMPLE_CA_HEADER)).toBe(true);
    expect(certificateIn(fresh).subject).toBe(certificateIn(committed).subject);
    expect(certificateIn(fresh).subject).toContain('EXAMPLE');
  });
});
