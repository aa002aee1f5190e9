/**
 * Log lines → typed records. Two formats:
 * - nginx's access log, `log_format provider_json` (nginx/snippets/log-format.conf): one
 *   object per response nginx gave, its own refusals and the files it sent included;
 * - the app's pino lines (what `pm2 logs` shows): an access line (`"access":true`) per
 *   answer it wrote (provider-app/middleware/access-log.ts) or decision it gave nginx
 *   (provider-app/nginx-authz.ts), carrying the client id, the dataset and, for a refusal,
 *   the RFC 6750 description.
 * A line that is not one of these is `undefined` (the caller counts it and goes on), never an
 * exception. Fields the report does not know (a new `client_serial`) are ignored; a field
 * that is missing or has the wrong type is absent. Every kept string is cleaned (sanitize.ts).
 */
import { cleanRequest, cleanText } from './sanitize';
import { requestPath, targetOf, type Target } from './request-target';

/** One response, from nginx's access log. Absent: nginx logged no value ("" or "-"). */
export interface NginxRecord {
  /** Epoch ms of `$time_iso8601` (whole seconds: when the response ended). */
  readonly time: number;
  /** The request line as shown: cleaned, query values redacted, at most MAX.request chars. */
  readonly request?: string;
  /** What it asked for (from the raw request line, before cleaning). */
  readonly target: Target;
  readonly status: number;
  /** `$body_bytes_sent`: the body, headers not counted. */
  readonly bytesSent: number;
  /** Seconds, from `$request_time`. */
  readonly requestTime?: number;
  /** The last upstream's status: the app's answer when nginx passed the request on. */
  readonly upstreamStatus?: number;
  readonly sslProtocol?: string;
  /** `$ssl_client_verify`: SUCCESS, NONE or FAILED:<reason>. */
  readonly clientVerify?: string;
  readonly clientSubject?: string;
  readonly clientSerial?: string;
  readonly interactionId?: string;
  /** The app's client id for a dataset read it allowed (auth_request), else absent. */
  readonly clientId?: string;
  /** The app's answer to nginx's authorization subrequest: 204 allowed, 403 "ask me". */
  readonly authzStatus?: number;
  /** HIT when nginx reused an earlier decision. */
  readonly authzCache?: string;
  readonly userAgent?: string;
}

/** One access line of the app. */
export interface AppRecord {
  readonly time: number;
  readonly interactionId: string;
  readonly status?: number;
  readonly clientId?: string;
  readonly certSubject?: string;
  readonly dataset?: string;
  /** The refusal's RFC 6750 description (the app's `error` field). */
  readonly error?: string;
  /** The RFC 6750 code, when a line carries one (`errorCode`); otherwise inferred later. */
  readonly errorCode?: string;
  /** "nginx auth_request" for a decision nginx acted on. */
  readonly via?: string;
}

/** Longest value kept of each kind; a longer one is cut and ends with "…". */
export const MAX = { request: 300, identity: 200, userAgent: 200, description: 300, short: 100 } as const;

/** The JSON fields of nginx's line this parser reads; log-format.conf must write each (a test checks). */
export const NGINX_FIELDS_READ = [
  'time',
  'request',
  'status',
  'bytes_sent',
  'request_time',
  'upstream_status',
  'ssl_protocol',
  'client_verify',
  'client_subject',
  'fapi_interaction_id',
  'client_id',
  'authz_status',
  'authz_cache',
  'user_agent',
] as const;

type Json = Record<string, unknown>;

function object(line: string, from: number): Json | undefined {
  try {
    const value: unknown = JSON.parse(line.slice(from));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

function time(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** A status: a number, or a string of one ("204"; upstream's "502, 401" → the last). */
function status(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 100 && value <= 999 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const all = value.match(/\b[1-9]\d\d\b/g);
  return all ? Number(all[all.length - 1]) : undefined;
}

function nonNegative(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * An nginx access line, or undefined when the line is not one: not JSON, or no time, status
 * or request (which nginx always writes, "" for a connection that sent none; the app's
 * access lines have a time and a status too, but no request).
 */
export function parseNginxLine(line: string): NginxRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  const o = object(line, 0);
  const at = o && time(o.time);
  const code = o && status(o.status);
  if (!o || at === undefined || code === undefined || typeof o.request !== 'string') return undefined;
  const rawRequest = o.request;
  return strip({
    time: at,
    request: cleanRequest(rawRequest, MAX.request),
    target: targetOf(requestPath(rawRequest)),
    status: code,
    bytesSent: nonNegative(o.bytes_sent) ?? 0,
    requestTime: nonNegative(o.request_time),
    upstreamStatus: status(o.upstream_status),
    sslProtocol: cleanText(o.ssl_protocol, MAX.short),
    clientVerify: cleanText(o.client_verify, MAX.description),
    clientSubject: cleanText(o.client_subject, MAX.identity),
    clientSerial: cleanText(o.client_serial, MAX.short),
    interactionId: cleanText(o.fapi_interaction_id, MAX.short),
    clientId: cleanText(o.client_id, MAX.identity),
    authzStatus: status(o.authz_status),
    authzCache: cleanText(o.authz_cache, MAX.short),
    userAgent: cleanText(o.user_agent, MAX.userAgent),
  });
}

/**
 * An app access line; `'other'` for another line of the app (startup, a warning without a
 * request); undefined when it is not a JSON line at all. PM2's `pm2 logs` view prefixes
 * lines ("0|provider | {…}"), so the object may start after a prefix.
 */
export function parseAppLine(line: string): AppRecord | 'other' | undefined {
  const start = line.indexOf('{');
  const o = start === -1 ? undefined : object(line, start);
  if (!o) return undefined;
  const at = time(o.time);
  const interactionId = cleanText(o.interactionId, MAX.short);
  if (o.access !== true || at === undefined || interactionId === undefined) return 'other';
  return strip({
    time: at,
    interactionId,
    status: status(o.status),
    clientId: cleanText(o.clientId, MAX.identity),
    certSubject: cleanText(o.certSubject, MAX.identity),
    dataset: cleanText(o.dataset, MAX.identity),
    error: cleanText(o.error, MAX.description),
    errorCode: cleanText(o.errorCode, MAX.short),
    via: cleanText(o.via, MAX.short),
  });
}

/** Drops undefined fields, so a record (and the JSON report) shows only what was logged. */
function strip<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) if (record[key] === undefined) delete record[key];
  return record;
}
