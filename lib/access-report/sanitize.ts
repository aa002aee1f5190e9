/**
 * Every string the report takes from a log passes through here once, when the line is
 * parsed: log values are chosen by whoever sent the request (a user agent, a path, a
 * certificate subject), so before they reach a terminal, an HTML page or an e-mail they
 * lose what could hide or fake text (control characters, bidi overrides, broken UTF-16),
 * what could leak (tokens in a query string, Bearer values, JWTs) and their excess length.
 * HTML escaping is the renderer's job (html.ts); this makes values safe to *show*.
 */

/** A request's query string keeps its parameter names; every value is replaced by this. */
export const REDACTED = '[redacted]';

// C0, DEL and C1 controls: an ESC in a user agent must not reach the operator's terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// Invisible or direction-changing characters that make shown text differ from what it is.
const INVISIBLE = /[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// Half of a surrogate pair (JSON "\ud800" parses to one): not text, and invalid in UTF-8 output.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const BEARER = /\b(bearer|basic|dpop)(\s+)[A-Za-z0-9._~+/=-]+/gi;
// `name=value` where the name says secret; the value ends at a separator.
const SECRET_PAIR = /\b([A-Za-z0-9_.-]*(?:token|secret|password|passwd|assertion|signature|api[_-]?key|code)[A-Za-z0-9_.-]*)=([^&\s;,"']*)/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** Credentials in free text (a user agent, a subject): Bearer values, `token=` pairs, JWTs. */
export function redactSecrets(text: string): string {
  return text.replace(JWT, REDACTED).replace(BEARER, `$1$2${REDACTED}`).replace(SECRET_PAIR, `$1=${REDACTED}`);
}

/**
 * Every query string in a request line, names kept and values redacted: the report has no
 * use for values, and a consumer that puts `access_token=` in a URL (the app refuses it)
 * must not see its token in an e-mailed report.
 */
export function redactQuery(request: string): string {
  return request.replace(/\?(\S*)/g, (_match, query: string) => {
    const names = query
      .split('&')
      .filter((part) => part !== '')
      .map((part) => (part.includes('=') ? `${part.slice(0, part.indexOf('='))}=${REDACTED}` : REDACTED));
    return `?${names.join('&')}`;
  });
}

/**
 * `value` made safe to show: secrets redacted, controls and invisible characters written
 * out as `\xNN` / `\u{NNNN}`, broken surrogates as U+FFFD, at most `max` characters (then
 * `…`). Undefined for anything but a non-empty string, and for nginx's "-" (no value).
 */
export function cleanText(value: unknown, max: number): string | undefined {
  return clean(value, max, (text) => text);
}

/** A request line as `cleanText` shows it, its query values redacted too. */
export function cleanRequest(value: unknown, max: number): string | undefined {
  return clean(value, max, redactQuery);
}

function clean(value: unknown, max: number, redact: (text: string) => string): string | undefined {
  if (typeof value !== 'string' || value === '' || value === '-') return undefined;
  // Cut well past what is shown before any regex runs, so a hostile megabyte costs nothing;
  // a secret that starts in the shown part is still whole enough here to be recognised.
  const bounded = value.length > max * 4 + 64 ? value.slice(0, max * 4 + 64) : value;
  const shown = redactSecrets(redact(bounded))
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(CONTROL, (c) => `\\x${hex(c, 2)}`)
    .replace(INVISIBLE, (c) => `\\u{${hex(c, 4)}}`);
  const chars = Array.from(shown);
  return chars.length > max || bounded !== value ? `${chars.slice(0, max).join('')}…` : shown;
}
