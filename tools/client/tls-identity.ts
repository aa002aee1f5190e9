import { readFileSync } from 'node:fs';
import { ClientError } from './errors';

/** The consumer's transport identity and the CA bundle it trusts, as PEM. */
export interface TlsIdentity {
  /** Client certificate (PEM); may include intermediates. */
  readonly cert?: string;
  /** Client private key (PEM). Never logged. */
  readonly key?: string;
  /** CA bundle that signs the servers' certificates; absent = the system roots. */
  readonly ca?: string;
}

export interface TlsIdentityFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
}

function readPem(file: string, what: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ClientError(`Cannot read the ${what} ${file} (${code ?? 'error'}).`, `Check the path given to ${flag}.`);
  }
  if (!text.includes('-----BEGIN ')) {
    throw new ClientError(`The ${what} ${file} is not a PEM file.`, `${flag} expects a PEM file.`);
  }
  return text;
}

/** Reads the PEM files; a certificate without its key (or the reverse) is an error. */
export function loadTlsIdentity(files: TlsIdentityFiles): TlsIdentity {
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) {
    throw new ClientError('A client certificate needs its private key, and the reverse.', 'Pass both --cert and --key.');
  }
  return {
    cert: files.certFile ? readPem(files.certFile, 'client certificate', '--cert') : undefined,
    key: files.keyFile ? readPem(files.keyFile, 'client key', '--key') : undefined,
    ca: files.caFile ? readPem(files.caFile, 'CA bundle', '--ca') : undefined,
  };
}
