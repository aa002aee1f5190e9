/**
 * `npm run example-ca`: (re)writes the example environment's trust bundle,
 * config/examples/trust-bundle.example.pem — a throw-away root CA certificate made
 * with this PKI helper, its private key never written anywhere.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/project-paths';
import { createRootCa, type SubjectFields } from './index';

export const EXAMPLE_CA_SUBJECT: SubjectFields = {
  organization: 'Provider Host EXAMPLE',
  commonName: 'EXAMPLE Trust Framework Root CA - not for production',
};

export const EXAMPLE_CA_HEADER = `# EXAMPLE ONLY — NOT A REAL TRUST FRAMEWORK CA.
# A throw-away self-signed CA certificate for the built-in example environment, made
# by \`npm run example-ca\` (testing/pki/example-ca.ts); its private key was never stored.
# Nothing should trust it. For a real deployment point content.trustBundleFile at the
# trust framework's CA chain (for Open Energy: the Directory's issuing CA bundle).
`;

/** The example trust bundle's text: the header, then the certificate only. */
export function exampleTrustBundle(): string {
  return `${EXAMPLE_CA_HEADER}${createRootCa({ subject: EXAMPLE_CA_SUBJECT, validityDays: 3650 }).certPem.trim()}\n`;
}

if (require.main === module) {
  const file = join(PROJECT_ROOT, 'config', 'examples', 'trust-bundle.example.pem');
  writeFileSync(file, exampleTrustBundle());
  process.stdout.write(`wrote ${file}\n`);
}
