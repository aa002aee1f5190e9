/**
 * The sandbox's CRLs: the dev PKI's two CAs (root, issuing) each publish an empty CRL,
 * issued now, so the sandbox's terminator checks revocation as the host does (nginx's
 * ssl_crl, fail closed). Written at every start: a CRL is valid for a week.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCrl } from '../../testing/pki/crl';

const CAS = ['root-ca', 'intermediate-ca'] as const;

/** Writes the concatenated PEM CRLs of the dev PKI in `pkiDir` to `file`; returns `file`. */
export function writeSandboxCrls(pkiDir: string, file: string, now = new Date()): string {
  const crlNumber = Math.floor(now.getTime() / 1000);
  const pems = CAS.map((name) => {
    const ca = {
      certPem: readFileSync(join(pkiDir, `${name}.crt`), 'utf8'),
      keyPem: readFileSync(join(pkiDir, `${name}.key`), 'utf8'),
      chainPem: '',
      subject: { commonName: name },
    };
    return issueCrl(ca, { crlNumber }).pem;
  });
  writeFileSync(file, pems.join(''), { mode: 0o644 });
  return file;
}
