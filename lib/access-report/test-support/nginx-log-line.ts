/**
 * nginx access-log lines for tests, written the way nginx writes them: from the real
 * `log_format provider_json` in nginx/snippets/log-format.conf, each `$variable` replaced by
 * its value escaped as `escape=json` does. When the format changes, the lines change with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_FORMAT_FILE = join(__dirname, '..', '..', '..', 'nginx', 'snippets', 'log-format.conf');

/** The format string of `log_format provider_json`: its quoted pieces, joined. */
export function logFormatTemplate(): string {
  const conf = readFileSync(LOG_FORMAT_FILE, 'utf8');
  const body = /^\s*log_format\s+provider_json\s+escape=json\s+([\s\S]*?);\s*$/m.exec(conf)?.[1];
  if (body === undefined) throw new Error(`${LOG_FORMAT_FILE}: no "log_format provider_json escape=json ...;"`);
  return [...body.matchAll(/'([^']*)'/g)].map((m) => m[1]).join('');
}

/** The JSON field names the format writes, in order. */
export function logFormatFields(): string[] {
  return [...logFormatTemplate().matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!);
}

/** nginx variable name (without `$`) → value. */
export type NginxVariables = Readonly<Record<string, string | number>>;

/** A verified consumer's dataset read that nginx served on the app's fresh decision. */
export const DEFAULTS: NginxVariables = {
  time_iso8601: '2026-01-22T10:00:00+00:00',
  remote_addr: '203.0.113.10',
  request: 'GET /meters HTTP/2.0',
  status: 200,
  body_bytes_sent: 1200,
  request_time: 0.004,
  upstream_response_time: '',
  upstream_status: '',
  ssl_protocol: 'TLSv1.3',
  ssl_cipher: 'TLS_AES_256_GCM_SHA384',
  ssl_client_verify: 'SUCCESS',
  ssl_client_s_dn: 'CN=consumer-a,O=Example Energy Ltd,C=GB',
  ssl_client_i_dn: 'CN=Trust Framework Issuing CA,O=Trust Framework,C=GB',
  ssl_client_serial: '5A3F0C21',
  sent_http_x_fapi_interaction_id: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
  provider_client_id: 'consumer-a',
  provider_authz_status: '204',
  provider_authz_cache: 'MISS',
  http_user_agent: 'consumer-client/1.4 (+https://consumer.example)',
};

/** escape=json: `"` and `\` backslashed, bytes below 0x20 as \n, \t ... or \u00XX; the rest as it came. */
export function escapeJsonLikeNginx(value: string): string {
  const named: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
  return value.replace(/["\\\u0000-\u001f]/g, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * One access-log line (no newline): DEFAULTS overridden by `variables`. A variable the
 * format uses that neither names is logged empty, as nginx logs an unset variable.
 */
export function nginxLogLine(variables: NginxVariables = {}): string {
  const values = { ...DEFAULTS, ...variables };
  return logFormatTemplate().replace(/\$([a-z_0-9]+)/g, (_m, name: string) => escapeJsonLikeNginx(String(values[name] ?? '')));
}
