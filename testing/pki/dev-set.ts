import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createIntermediateCa,
  createRootCa,
  issueClientCert,
  issueServerCert,
  subjectDn,
  thumbprintS256,
  writeCertSet,
  type CertificateAuthority,
  type IssuedCertificate,
} from './index';

export interface DevSetOptions {
  /** Extra DNS names for the server certificate (always has `localhost`). */
  readonly dnsNames?: readonly string[];
  /** Extra IP addresses for the server certificate (always has 127.0.0.1 and ::1). */
  readonly ipAddresses?: readonly string[];
  /** Common name of the consumer client certificate. @default 'consumer' */
  readonly consumerName?: string;
  /** Common name of the provider's transport (client) certificate. @default 'provider' */
  readonly providerName?: string;
  /** @default 'Provider Host Dev' */
  readonly organization?: string;
}

/** What {@link createDevSet} produced, in memory, with the facts other tools need. */
export interface DevSet {
  readonly dir: string;
  readonly rootCa: CertificateAuthority;
  readonly intermediateCa: CertificateAuthority;
  /** Server certificate for localhost/127.0.0.1: nginx and the authorization server. */
  readonly server: IssuedCertificate;
  /** The provider's transport certificate (client auth to the authorization server). */
  readonly provider: IssuedCertificate;
  /** A consumer's client certificate. */
  readonly consumer: IssuedCertificate;
  /** Intermediate + root PEM: trust this to verify any certificate of the set. */
  readonly caBundlePem: string;
  /** Paths of the files written. */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * Writes the standard development set to `dir`:
 * `root-ca`, `intermediate-ca`, `server`, `provider`, `consumer` (each `.crt` + `.key`
 * with mode 0600, end-entity ones also `.chain.crt` = cert + intermediate),
 * `ca-bundle.crt` (intermediate + root) and `pki.json` (subjects and `x5t#S256` thumbprints).
 */
export function createDevSet(dir: string, options: DevSetOptions = {}): DevSet {
  const organization = options.organization ?? 'Provider Host Dev';
  const rootCa = createRootCa({ subject: { commonName: `${organization} Root CA`, organization } });
  const intermediateCa = createIntermediateCa(rootCa, { subject: { commonName: `${organization} Issuing CA`, organization } });
  const server = issueServerCert(intermediateCa, {
    commonName: 'localhost',
    dnsNames: ['localhost', ...(options.dnsNames ?? [])],
    ipAddresses: ['127.0.0.1', '::1', ...(options.ipAddresses ?? [])],
  });
  const provider = issueClientCert(intermediateCa, { subject: { commonName: options.providerName ?? 'provider', organization } });
  const consumer = issueClientCert(intermediateCa, { subject: { commonName: options.consumerName ?? 'consumer', organization } });
  const caBundlePem = intermediateCa.certPem + rootCa.certPem;

  writeCertSet(dir, { 'root-ca': rootCa, 'intermediate-ca': intermediateCa, server, provider, consumer });
  const files: Record<string, string> = { caBundle: join(dir, 'ca-bundle.crt'), manifest: join(dir, 'pki.json') };
  for (const name of ['root-ca', 'intermediate-ca', 'server', 'provider', 'consumer']) {
    files[`${name}.crt`] = join(dir, `${name}.crt`);
    files[`${name}.key`] = join(dir, `${name}.key`);
  }
  for (const name of ['server', 'provider', 'consumer']) files[`${name}.chain.crt`] = join(dir, `${name}.chain.crt`);
  writeFileSync(files.caBundle!, caBundlePem, { mode: 0o644 });
  const describe = (entry: IssuedCertificate) => ({ subjectDn: subjectDn(entry.certPem), x5tS256: thumbprintS256(entry.certPem) });
  writeFileSync(
    files.manifest!,
    JSON.stringify({ server: describe(server), provider: describe(provider), consumer: describe(consumer) }, null, 2) + '\n',
  );
  return { dir, rootCa, intermediateCa, server, provider, consumer, caBundlePem, files };
}
