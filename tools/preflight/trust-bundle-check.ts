import { readFileSync } from 'node:fs';
import { fail, pass, warn, type CheckResult } from './check-result';
import { expiry, isoDay, parsePemCertificates, subjectName } from './pem-certificates';

const NAME = 'trust bundle';

export interface TrustBundleSettings {
  /** `content.trustBundleFile`, absolute. */
  readonly file: string;
  /** How the file is named in the line (as written in the environment file). */
  readonly shownAs: string;
  readonly warnDays: number;
  readonly failDays: number;
  readonly now: Date;
}

/** The client-CA bundle: at least one certificate, every block a certificate that parses, each a CA; the earliest expiry. */
export function checkTrustBundle(settings: TrustBundleSettings): CheckResult {
  const { shownAs } = settings;
  let text: string;
  try {
    text = readFileSync(settings.file, 'utf8');
  } catch (error) {
    return fail(NAME, `cannot read ${shownAs} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check content.trustBundleFile`);
  }
  const parsed = parsePemCertificates(text);
  if (!parsed.ok) {
    return fail(NAME, `${shownAs}: ${parsed.problem}; the bundle holds the trust framework's CA certificates as PEM, nothing else`);
  }
  const certificates = parsed.certificates;
  const notCa = certificates.findIndex((c) => !c.ca);
  if (notCa >= 0) {
    return fail(NAME, `${shownAs}: certificate ${notCa + 1} (${subjectName(certificates[notCa]!)}) is not a CA; the bundle holds CA certificates only: remove it`);
  }
  const earliest = [...certificates].sort((a, b) => new Date(a.validTo).getTime() - new Date(b.validTo).getTime())[0]!;
  const expires = expiry(earliest, settings.now, settings);
  const count = `${certificates.length} CA certificate${certificates.length > 1 ? 's' : ''} in ${shownAs}`;
  if (expires.status === 'fail') return fail(NAME, `${count}; ${subjectName(earliest)} ${expires.text}; get the trust framework's current CA certificates and replace the file`);
  if (expires.status === 'warn') return warn(NAME, `${count}; ${subjectName(earliest)} ${expires.text}; get its renewal from the trust framework soon`);
  const detail = `${count}, earliest expiry ${isoDay(new Date(earliest.validTo))} (${subjectName(earliest)})`;
  return pass(NAME, detail);
}
