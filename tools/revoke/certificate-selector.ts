/**
 * Which certificate the operator named — a certificate file, the serial and issuer of an
 * access log line, or a SHA-1 fingerprint — as the deny-list entry that lists it and
 * every key it goes by. Each input problem is a RevokeInputError: one line saying what
 * is wrong, and a hint saying what to do instead.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { denyEntrySchema, denyKey, normaliseSerial, type DenyEntry } from '../../contract/deny-list';
import { issuerDn } from './issuer-dn';
import { CertificateNameError } from './issuer-entries';
import { issuerTextProblem } from './issuer-text';

/** Bad usage or input (exit 2). */
export class RevokeInputError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RevokeInputError';
  }
}

export interface SelectorOptions {
  /** A certificate file (PEM or DER). */
  readonly file?: string;
  readonly serial?: string;
  readonly issuer?: string;
  readonly sha1?: string;
}

export type DenyTarget = { readonly issuer: string; readonly serial: string } | { readonly sha1Fingerprint: string };

export interface SelectedCertificate {
  /** What revoke lists: a certificate file's issuer and serial (they are in every log line), or what was given. */
  readonly target: DenyTarget;
  /** Every deny key the certificate goes by, the target's first (a file gives its fingerprint's too). */
  readonly keys: readonly string[];
  /** For messages: what was named, and from where. */
  readonly description: string;
}

const OPTION_OF_FIELD: Readonly<Record<string, string>> = { issuer: '--issuer', serial: '--serial', sha1Fingerprint: '--sha1', reason: '--reason' };
// Stands in for addedAt while only the other fields are being checked.
const CHECK_TIME = '1970-01-01T00:00:00.000Z';

/** Fields checked by the deny list's own schema (and normalised by it: serial, fingerprint). */
function checkedEntry(fields: Record<string, unknown>): DenyEntry | { problem: string; field: string } {
  const result = denyEntrySchema.safeParse({ addedAt: CHECK_TIME, ...fields });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  return { problem: issue.message, field: String(issue.path[0] ?? '') };
}

/** The entry revoke writes for `target`, checked; a bad --reason is named. */
export function denyEntryFor(target: DenyTarget, reason: string | undefined, addedAt: Date): DenyEntry {
  const entry = checkedEntry({ ...target, ...(reason !== undefined ? { reason } : {}), addedAt: addedAt.toISOString() });
  if ('problem' in entry) throw new RevokeInputError(`${OPTION_OF_FIELD[entry.field] ?? entry.field}: ${entry.problem}`);
  return entry;
}

/** "serial 1A2B of CN=Issuing CA,O=Example" or "sha1 fingerprint 01ab…". */
export function describeTarget(target: DenyTarget): string {
  return 'sha1Fingerprint' in target ? `sha1 fingerprint ${target.sha1Fingerprint}` : `serial ${target.serial} of ${target.issuer}`;
}

function targetOf(entry: DenyEntry): DenyTarget {
  return 'sha1Fingerprint' in entry ? { sha1Fingerprint: entry.sha1Fingerprint } : { issuer: entry.issuer, serial: entry.serial };
}

function readCertificate(file: string): X509Certificate {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new RevokeInputError(`cannot read ${file}: ${why}`);
  }
  const text = bytes.toString('latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length > 1) {
    throw new RevokeInputError(`${file} holds ${blocks.length} certificates; give a file with only the one to revoke`, `the client's own is usually the first: openssl x509 -in ${file} -out client.pem`);
  }
  if (blocks.length === 0 && bytes[0] !== 0x30) {
    throw new RevokeInputError(
      /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? `${file} is a private key, not a certificate` : `${file} is not a certificate: no -----BEGIN CERTIFICATE----- block, and not DER`,
      'give the client certificate file, or --serial and --issuer as the access log prints them',
    );
  }
  try {
    return new X509Certificate(blocks[0] ?? bytes);
  } catch (error) {
    throw new RevokeInputError(`${file}: the certificate cannot be read (${(error as Error).message.replace(/^error:[0-9A-F]+:/, '')})`);
  }
}

function fromFile(file: string): SelectedCertificate {
  const certificate = readCertificate(file);
  const sha1 = certificate.fingerprint.replace(/:/g, '').toLowerCase();
  const bySha1 = `revoke it by fingerprint instead: --sha1 ${sha1}`;
  let issuer: string;
  try {
    issuer = issuerDn(certificate);
  } catch (error) {
    if (error instanceof CertificateNameError) throw new RevokeInputError(`${file}: its issuer name cannot be read (${error.message})`, bySha1);
    throw error;
  }
  const entry = checkedEntry({ issuer, serial: normaliseSerial(certificate.serialNumber) });
  if ('problem' in entry) throw new RevokeInputError(`${file} cannot be listed by issuer and serial: ${entry.problem} (it is ${issuer || 'empty'})`, bySha1);
  const target = targetOf(entry);
  return { target, keys: [denyKey(entry), `sha1:${sha1}`], description: `${describeTarget(target)} (${file})` };
}

function fromSerialAndIssuer(serial: string, issuer: string): SelectedCertificate {
  const problem = issuerTextProblem(issuer);
  if (problem) {
    throw new RevokeInputError(
      `--issuer is not as nginx prints it: ${problem}`,
      "copy client_issuer from the access log as jq prints it (jq -r .client_issuer), or give the certificate file",
    );
  }
  const entry = checkedEntry({ issuer, serial });
  if ('problem' in entry) throw new RevokeInputError(`${OPTION_OF_FIELD[entry.field] ?? entry.field}: ${entry.problem}`);
  const target = targetOf(entry);
  return { target, keys: [denyKey(entry)], description: describeTarget(target) };
}

function fromSha1(sha1: string): SelectedCertificate {
  // As `openssl x509 -noout -fingerprint -sha1` prints it, label and all.
  const entry = checkedEntry({ sha1Fingerprint: sha1.replace(/^sha1 fingerprint=/i, '') });
  if ('problem' in entry) throw new RevokeInputError(`--sha1: ${entry.problem}`, 'openssl x509 -noout -fingerprint -sha1 -in <cert.pem> prints it');
  const target = targetOf(entry);
  return { target, keys: [denyKey(entry)], description: describeTarget(target) };
}

/** The one certificate `options` name; exactly one way of naming it must be given. */
export function selectCertificate(options: SelectorOptions): SelectedCertificate {
  const ways = [
    options.file !== undefined ? 'a certificate file' : undefined,
    options.serial !== undefined || options.issuer !== undefined ? '--serial/--issuer' : undefined,
    options.sha1 !== undefined ? '--sha1' : undefined,
  ].filter((way): way is string => way !== undefined);
  if (ways.length === 0) throw new RevokeInputError('which certificate? give its file, --serial with --issuer, or --sha1');
  if (ways.length > 1) throw new RevokeInputError(`name the certificate one way, not by ${ways.join(' and ')}`);
  if (options.file !== undefined) return fromFile(options.file);
  if (options.sha1 !== undefined) return fromSha1(options.sha1);
  if (options.serial === undefined) throw new RevokeInputError('--issuer needs --serial: client_serial of the same access log line');
  if (options.issuer === undefined) throw new RevokeInputError('--serial needs --issuer: client_issuer of the same access log line');
  return fromSerialAndIssuer(options.serial, options.issuer);
}
