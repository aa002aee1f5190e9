/**
 * PEM text split into its blocks, and the certificates among them parsed. Problems are
 * described by position and kind only: callers pass secret values through here, so no
 * message ever quotes the text.
 */
import { X509Certificate } from 'node:crypto';

export const DAY_MS = 24 * 60 * 60 * 1000;

export type PemCertificates =
  | { readonly ok: true; readonly certificates: readonly X509Certificate[] }
  | { readonly ok: false; readonly problem: string };

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * Every block of `text` must be a CERTIFICATE that parses; text between blocks (comments
 * such as `openssl x509 -text` output) is allowed, as nginx and OpenSSL allow it.
 */
export function parsePemCertificates(text: string): PemCertificates {
  const certificates: X509Certificate[] = [];
  let index = 0;
  for (const match of text.matchAll(BLOCK_RE)) {
    index += 1;
    const [block, label, , endLabel] = match;
    if (label !== endLabel) return { ok: false, problem: `block ${index} starts as "${label}" but ends as "${endLabel}"` };
    if (label !== 'CERTIFICATE') return { ok: false, problem: `block ${index} is a "${label}", not a CERTIFICATE` };
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      return { ok: false, problem: `block ${index} is not a valid certificate (bad base64 or DER)` };
    }
  }
  const begins = (text.match(/-----BEGIN /g) ?? []).length;
  if (begins !== index) return { ok: false, problem: `a "-----BEGIN" line has no matching "-----END" line` };
  if (certificates.length === 0) return { ok: false, problem: 'no "-----BEGIN CERTIFICATE-----" block' };
  return { ok: true, certificates };
}

/** `CN=…` of the subject (or the whole subject on one line when it has no CN). */
export function subjectName(cert: X509Certificate): string {
  const lines = cert.subject.split('\n');
  return lines.find((line) => line.startsWith('CN=')) ?? lines.join(', ');
}

export const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

export type Expiry = { readonly status: 'pass' | 'warn' | 'fail'; readonly text: string };

/** "expires 2026-08-01 (365 days)"; fail when expired or within `failDays`, warn within `warnDays`. */
export function expiry(cert: X509Certificate, now: Date, days: { readonly warnDays: number; readonly failDays: number }): Expiry {
  const notAfter = new Date(cert.validTo);
  const left = notAfter.getTime() - now.getTime();
  const wholeDays = Math.floor(left / DAY_MS);
  if (left <= 0) return { status: 'fail', text: `expired on ${isoDay(notAfter)}` };
  const text = `expires ${isoDay(notAfter)} (in ${wholeDays} day${wholeDays === 1 ? '' : 's'})`;
  if (left <= days.failDays * DAY_MS) return { status: 'fail', text };
  if (left <= days.warnDays * DAY_MS) return { status: 'warn', text };
  return { status: 'pass', text };
}
