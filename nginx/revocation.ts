/**
 * The two nginx files that carry revocation into the mTLS site (docs/host.md
 * "Revocation"), rendered from the host's state — the CRL set installed and the
 * operator's deny list — and swapped in with a reload, never a restart:
 *
 *   revocation-http.conf    (http context, included by the site before its server blocks)
 *       the deny list as maps on the certificate nginx sees on *every request*
 *       ($ssl_client_i_dn + $ssl_client_serial, $ssl_client_fingerprint), so a resumed
 *       TLS session, which skips verification, is matched too; and whether revocation
 *       is on with no CRL installed yet (fail closed: every client is refused).
 *   revocation-server.conf  (the 443 server)
 *       `ssl_crl` with the installed set, and the TLS session cache named after it:
 *       a new CRL set is a new, empty cache, so a revoked client cannot resume a session
 *       its certificate was verified for before the CRL said otherwise.
 *
 * Used by the host (host-render revocation-nginx), the dev sandbox and the tests.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DenyEntry, DenyList } from '../contract/deny-list';
import { EMPTY_DENY_LIST } from '../contract/deny-list';

export const REVOCATION_HTTP_CONF = 'revocation-http.conf';
export const REVOCATION_SERVER_CONF = 'revocation-server.conf';
/** The installed CRL set (concatenated PEM), as the host's refresh writes it. */
export const CRL_SET_FILE = 'crl.pem';

export interface RevocationNginxState {
  /** The host checks CRLs (the contract's `revocation`). */
  readonly checkCrls: boolean;
  /** The installed CRL set; absent when none is installed. */
  readonly crlFile?: string;
  /** A short content hash of the CRL set (names the TLS session cache). */
  readonly crlGeneration?: string;
  readonly denyList: DenyList;
}

// nginx quoted strings: a backslash and a double quote are escaped; nothing else is read.
const quoted = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

// A DN as an anchored PCRE matching exactly that string: every character but letters,
// digits and space as \x{HH}, which neither nginx's parser nor PCRE reads specially.
function exactRegex(value: string): string {
  const body = [...value].map((c) => (/[A-Za-z0-9 ]/.test(c) ? c : `\\x{${c.codePointAt(0)!.toString(16)}}`)).join('');
  return `~^${body}$`;
}

function issuerSerialEntries(entries: readonly DenyEntry[]): { issuers: Map<string, number>; keys: string[] } {
  const issuers = new Map<string, number>();
  const keys: string[] = [];
  for (const entry of entries) {
    if (!('issuer' in entry)) continue;
    if (!issuers.has(entry.issuer)) issuers.set(entry.issuer, issuers.size + 1);
    keys.push(`${issuers.get(entry.issuer)}:${entry.serial}`);
  }
  return { issuers, keys };
}

export function renderRevocationHttpConf(state: RevocationNginxState): string {
  const { issuers, keys } = issuerSerialEntries(state.denyList.entries);
  const fingerprints = state.denyList.entries.flatMap((e) => ('sha1Fingerprint' in e ? [e.sha1Fingerprint] : []));
  const lines = [
    '# Rendered by the host (nginx/revocation.ts): the operator\'s deny list and the',
    '# revocation state. Replaced whole and applied with a reload.',
    '',
    // Issuer DNs are long (nginx's hash buckets are not): each distinct issuer is one
    // anchored regex giving a short id; the (id, serial) pairs are a hash lookup.
    `# ${issuers.size} issuer(s), ${keys.length} serial(s), ${fingerprints.length} fingerprint(s) denied.`,
    'map $ssl_client_i_dn $provider_deny_issuer {',
    '    default "";',
    ...[...issuers].map(([dn, id]) => `    ${quoted(exactRegex(dn))} ${id};`),
    '}',
    'map "$provider_deny_issuer:$ssl_client_serial" $provider_denied_serial {',
    '    default "";',
    ...keys.map((key) => `    ${quoted(key)} denied;`),
    '}',
    'map $ssl_client_fingerprint $provider_denied_fingerprint {',
    '    default "";',
    ...fingerprints.map((fp) => `    ${fp} denied;`),
    '}',
    // Revocation on and no CRL installed yet: the site refuses every client (fail closed)
    // until the refresh installs one. $ssl_protocol only because a map needs a source.
    'map $ssl_protocol $provider_revocation_unknown {',
    `    default ${state.checkCrls && state.crlFile === undefined ? 'unknown' : '""'};`,
    '}',
    '',
  ];
  return lines.join('\n');
}

export function renderRevocationServerConf(state: RevocationNginxState): string {
  const lines = ['# Rendered by the host (nginx/revocation.ts): the CRL set nginx checks, if any.'];
  if (state.checkCrls && state.crlFile !== undefined) {
    lines.push(`ssl_crl ${state.crlFile};`);
  } else if (state.checkCrls) {
    lines.push('# Revocation is on and no CRL is installed yet: every client is refused (revocation-http.conf).');
  } else {
    lines.push('# Revocation checking is off (revocation.enabled: false); the deny list still holds.');
  }
  // Named after the CRL set: a new set starts an empty cache (no session outlives it).
  // The size and the 5-minute lifetime are in snippets/tls-policy.conf's reasoning.
  const generation = state.checkCrls && state.crlFile !== undefined ? (state.crlGeneration ?? 'set') : 'none';
  lines.push(`ssl_session_cache shared:provider_tls_${generation.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}:10m;`, '');
  return lines.join('\n');
}

/**
 * Writes both files into `dir` (each atomically: temp file, then rename), e.g. a test's
 * or the sandbox's revocation folder; returns `dir`.
 */
export function writeRevocationNginxFiles(dir: string, state: RevocationNginxState = { checkCrls: false, denyList: EMPTY_DENY_LIST }): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of [
    [REVOCATION_HTTP_CONF, renderRevocationHttpConf(state)],
    [REVOCATION_SERVER_CONF, renderRevocationServerConf(state)],
  ] as const) {
    const tmp = join(dir, `.${name}.tmp`);
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, join(dir, name));
  }
  return dir;
}
