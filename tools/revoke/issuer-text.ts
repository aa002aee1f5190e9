/**
 * Is this text an issuer DN the way nginx prints it ($ssl_client_i_dn, the access log's
 * client_issuer)? nginx matches the deny list's issuer character for character, so a DN
 * spelt another way — `C = GB, O = Example` (openssl's default), `issuer=` in front, the
 * raw JSON of a log line with its backslashes doubled — would be listed and never match.
 * This catches such spellings; only a certificate file proves a DN is the one nginx prints.
 */

// What OpenSSL's RFC 2253 printing puts a backslash before (issuer-dn.ts); other bytes are \XX.
const ESCAPED = ',+"\\<>;# ';
// Characters it always escapes: unescaped, the text did not come from it.
const ALWAYS_ESCAPED = '"<>;';
const TYPE_AND_VALUE = /^([A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)=(.*)$/s;
// A leading # stays bare only alone or as OpenSSL's dump of a value (#, then DER in hex).
const BARE_HASH = /^#(?:[0-9A-F]{2})*$/;

interface Part {
  readonly text: string;
  /** Whether its last character was written escaped (a trailing `\ ` is fine, a bare space is not). */
  readonly escapedLast: boolean;
}

/** Why `dn` is not a DN as nginx prints it, or undefined when it may well be. */
export function issuerTextProblem(dn: string): string | undefined {
  if (/^issuer\s*=/i.test(dn)) return 'drop the "issuer=" in front: openssl prints it, nginx does not';
  const parts: Part[] = [];
  let text = '';
  let escapedLast = false;
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\') {
      const next = dn[i + 1];
      const width = next !== undefined && ESCAPED.includes(next) ? 1 : /^[0-9A-F]{2}$/.test(dn.slice(i + 1, i + 3)) ? 2 : 0;
      if (width === 0) return `a \\ before ${next === undefined ? 'nothing' : `"${next}"`}: nginx puts one only before , + " \\ < > ; # or a space, and writes other bytes as \\XX (upper-case hex)`;
      text += dn.slice(i, i + 1 + width);
      i += width;
      escapedLast = true;
    } else if (c === ',' || c === '+') {
      parts.push({ text, escapedLast });
      text = '';
      escapedLast = false;
    } else if (ALWAYS_ESCAPED.includes(c)) {
      return `a bare ${c}: nginx prints it as \\${c}`;
    } else {
      text += c;
      escapedLast = false;
    }
  }
  parts.push({ text, escapedLast });
  for (const part of parts) {
    const match = TYPE_AND_VALUE.exec(part.text);
    if (!match) return `"${part.text}" is not type=value (nginx prints no spaces around , + and =)`;
    const value = match[2]!;
    if (value.startsWith(' ') || (value.endsWith(' ') && !part.escapedLast)) return `"${part.text}" has a bare space at its edge: nginx prints it as "\\ "`;
    if (value.startsWith('#') && !BARE_HASH.test(value)) return `"${part.text}" starts with a bare #: nginx prints it as "\\#"`;
  }
  return undefined;
}
