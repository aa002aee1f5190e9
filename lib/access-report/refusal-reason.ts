/**
 * Why a request was not served (status ≥ 400): the answer's status, its error code and a
 * description, from whoever gave it.
 * - The app (nginx passed the request on and the app's access line with the same
 *   interaction id names the refusal): its RFC 6750 description, the code from app-error-codes.ts.
 * - nginx itself (no upstream answered): the error page nginx sent, read from the very
 *   files it serves (nginx/errors/*.json), so the report says what the consumer was told.
 * - The app, without its line (no --app-log, or a line outside it): the status and, where the
 *   status alone tells, the code.
 */
import CLIENT_CERTIFICATE from '../../nginx/errors/client-certificate.json';
import NOT_FOUND from '../../nginx/errors/404.json';
import TOO_MANY from '../../nginx/errors/429.json';
import BAD_GATEWAY from '../../nginx/errors/502.json';
import UNAVAILABLE from '../../nginx/errors/503.json';
import GATEWAY_TIMEOUT from '../../nginx/errors/504.json';
import { appErrorCode } from './app-error-codes';
import type { AppRecord, NginxRecord } from './parse-logs';

export interface RefusalReason {
  readonly status: number;
  /** RFC 6750 (or nginx's error page's) `error`; absent when nothing tells it. */
  readonly code?: string;
  readonly description?: string;
}

interface ErrorPage {
  readonly error: string;
  readonly error_description: string;
}

/** nginx's own answers, by status (mtls-site.conf.tmpl's error_page lines). */
const NGINX_PAGES: Readonly<Record<number, ErrorPage>> = { 404: NOT_FOUND, 429: TOO_MANY, 502: BAD_GATEWAY, 503: UNAVAILABLE, 504: GATEWAY_TIMEOUT };

/** nginx statuses that have no page but do mean something to an operator. */
const NGINX_ONLY: Readonly<Record<number, string>> = {
  // With a verified certificate (or on port 80), nginx's own 400 is a request it could not
  // parse, or a certificate it refused after the handshake; the log does not tell which.
  400: 'refused by nginx before the app (a malformed request, or a certificate it refused)',
  408: 'the request did not arrive in time',
  413: 'the request body is too large',
  414: 'the request line is too long',
  444: 'connection closed without an answer (a name other than the provider’s)',
  494: 'the request headers are too large',
  499: 'the client closed the connection before the answer',
};

/** The reason for a refused line; undefined for a served one (status < 400). */
export function refusalReason(line: NginxRecord, app: AppRecord | undefined): RefusalReason | undefined {
  const { status } = line;
  if (status < 400) return undefined;
  if (app?.status === status && app.error !== undefined) {
    return reason(status, app.errorCode ?? appErrorCode(status, app.error), app.error);
  }
  // 502 and 504 are nginx's even with an upstream status: it is the one nginx recorded for
  // the app that did not answer.
  const appAnswered = line.upstreamStatus === status && status !== 502 && status !== 504;
  if (appAnswered) return reason(status, appErrorCode(status, undefined), undefined);
  return nginxReason(line);
}

function nginxReason(line: NginxRecord): RefusalReason {
  const { status, clientVerify } = line;
  // 495/496 are answered as 400 with client-certificate.json (error_page 495 496 =400).
  if (status === 400 && clientVerify !== undefined && clientVerify !== 'SUCCESS') {
    // The consumer is told "a valid certificate is required"; the operator is told which case it was.
    const why = clientVerify === 'NONE' ? 'no client certificate was sent' : `the client certificate failed verification (${clientVerify})`;
    return reason(status, CLIENT_CERTIFICATE.error, why);
  }
  const page = NGINX_PAGES[status];
  if (page) return reason(status, page.error, page.error_description);
  return reason(status, undefined, NGINX_ONLY[status]);
}

function reason(status: number, code: string | undefined, description: string | undefined): RefusalReason {
  return { status, ...(code !== undefined ? { code } : {}), ...(description !== undefined ? { description } : {}) };
}

/** One key per distinct reason, for counting. */
export function reasonKey(reason: RefusalReason): string {
  return JSON.stringify([reason.status, reason.code ?? null, reason.description ?? null]);
}

/** "401 invalid_token: the access token has expired". */
export function describeReason(reason: RefusalReason): string {
  const head = reason.code !== undefined ? `${reason.status} ${reason.code}` : String(reason.status);
  return reason.description !== undefined ? `${head}: ${reason.description}` : head;
}
