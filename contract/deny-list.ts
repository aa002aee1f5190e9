/**
 * The operator's deny list ("revoke now"): certificates nginx refuses whatever the CRLs
 * say, kept in the data bucket at BUCKET_LAYOUT.denyListKey. One definition for the
 * writer (`provider-host revoke`), the host (host-render revocation-nginx, which turns it
 * into nginx maps) and the tests.
 *
 * An entry names a certificate the way nginx sees it on every request, so a resumed TLS
 * session is matched too (the maps read $ssl_client_* per request, not per handshake):
 *   - issuer + serial: `issuer` exactly as nginx's $ssl_client_i_dn prints it (RFC 2253,
 *     the access log's client_issuer) and `serial` as $ssl_client_serial (hex);
 *   - or sha1Fingerprint: $ssl_client_fingerprint (nginx offers no other digest).
 */
import { z } from 'zod';

/** Upper-case hex, the way OpenSSL (and so nginx's $ssl_client_serial) prints a serial. */
export function normaliseSerial(serial: string): string {
  let hex = serial.replace(/[:\s]/g, '').toUpperCase();
  // OpenSSL prints whole bytes, without leading zero bytes (a DER sign byte included):
  // an odd number of digits gets its leading zero back, "00" pairs in front go.
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

// RFC 5280 §4.1.2.2: at most 20 octets.
const SERIAL_RE = /^[0-9A-F]{2,40}$/;
const FINGERPRINT_RE = /^[0-9a-f]{40}$/;
// What an RFC 2253 DN may hold that is also safe inside an nginx quoted string: no
// control characters, no `$` (nginx would read a variable), at most 1024 characters.
const DN_RE = /^[^\x00-\x1f\x7f$]{3,1024}$/;

const common = {
  /** Why, for the operator (shown by `provider-host revoked`, not sent to the client). */
  reason: z.string().max(200).regex(/^[^\x00-\x1f\x7f]*$/, { error: 'a reason is one line of text' }).optional(),
  addedAt: z.iso.datetime(),
};

export const denyEntrySchema = z.union([
  z.strictObject({
    issuer: z.string().regex(DN_RE, { error: 'issuer is the RFC 2253 DN as nginx logs it (client_issuer), without $ or control characters' }),
    serial: z.string().transform(normaliseSerial).pipe(z.string().regex(SERIAL_RE, { error: 'serial is the certificate serial in hex (client_serial in the access log)' })),
    ...common,
  }),
  z.strictObject({
    sha1Fingerprint: z.string().transform((v) => v.replace(/:/g, '').toLowerCase()).pipe(z.string().regex(FINGERPRINT_RE, { error: 'sha1Fingerprint is 40 hex digits' })),
    ...common,
  }),
]);

export const DENY_LIST_MAX_ENTRIES = 10_000;

export const denyListSchema = z.strictObject({
  version: z.literal(1),
  // For the certificates to refuse now; the CRLs carry the bulk. nginx looks each one up
  // in a hash per request (nginx/revocation.ts), so the bound is generous.
  entries: z.array(denyEntrySchema).max(DENY_LIST_MAX_ENTRIES, { error: `a deny list holds at most ${DENY_LIST_MAX_ENTRIES} entries; revoke through the CA's CRL for more` }),
});

export type DenyEntry = z.output<typeof denyEntrySchema>;
export type DenyList = z.output<typeof denyListSchema>;

export const EMPTY_DENY_LIST: DenyList = { version: 1, entries: [] };

export class DenyListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DenyListError';
  }
}

/** Parses deny-list JSON; a problem is one line naming the entry and the rule. */
export function parseDenyList(text: string, source = 'deny list'): DenyList {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DenyListError(`${source} is not JSON; repair it by hand (provider-host revoke does not edit a list it cannot read)`);
  }
  const result = denyListSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new DenyListError(`${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return result.data;
}

/** The key an entry matches on; two entries with the same key are the same certificate. */
export function denyKey(entry: DenyEntry): string {
  return 'sha1Fingerprint' in entry ? `sha1:${entry.sha1Fingerprint}` : `${entry.issuer}|${entry.serial}`;
}
