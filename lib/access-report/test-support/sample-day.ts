/**
 * One day of a provider's logs (2026-01-22, UTC), nginx's and the app's, built from their
 * real formats: what each kind of request leaves in both logs. Tests assert on it by name.
 */
import { appAccessLine, appDecisionLine, appStartLine } from './app-log-line';
import { nginxLogLine, type NginxVariables } from './nginx-log-line';

export const DAY = '2026-01-22';
const at = (hms: string) => `${DAY}T${hms}+00:00`;
/** An x-fapi-interaction-id of the app's safe form, one per request. */
const idAt = (hms: string) => `req-${hms.replace(/:/g, '')}`;

export const CONSUMER_A = { clientId: 'consumer-a', subject: 'CN=consumer-a,O=Example Energy Ltd,C=GB' } as const;
export const CONSUMER_B = { clientId: 'consumer-b', subject: 'CN=consumer-b,O=Other Co,C=GB' } as const;
export const MONITOR_SUBJECT = 'CN=uptime-monitor,O=Example Energy Ltd,C=GB';
/** A certificate the CA issued with a subject that is markup. */
export const HOSTILE_SUBJECT = `CN=</svg><script>alert('cn')</script>,O="Quoted, Inc",C=GB`;
export const HOSTILE_USER_AGENT = '<script>alert("ua")</script><img src=x onerror=alert(1)>';
export const HOSTILE_PATH = '/"><script>alert(1)</script>';
export const CONTROL_USER_AGENT = '\u001b[31mred\u001b[0m \u202eevil\u0007';
export const LONG_USER_AGENT = `long-agent/${'x'.repeat(20000)}`;
export const QUERY_TOKEN = 'SECRET-QUERY-TOKEN-1234';
/** consumer-a sends the same x-fapi-interaction-id on every request (some clients do). */
export const A_INTERACTION_ID = 'consumer-a-fixed-id';

export interface LogSet {
  readonly nginx: string[];
  readonly app: string[];
}

/** A dataset read the app allowed on nginx's subrequest; nginx sent the file. `HIT`: a reused decision, the app was not asked. */
function allowedRead(log: LogSet, time: string, who: { clientId: string; subject: string }, path: string, dataset: string, extra: NginxVariables & { cache?: 'MISS' | 'HIT' } = {}): void {
  const { cache = 'MISS', ...variables } = extra;
  const id = who === CONSUMER_A ? A_INTERACTION_ID : idAt(time);
  if (cache === 'MISS') log.app.push(appDecisionLine({ time: at(time), interactionId: id, path, clientId: who.clientId, certSubject: who.subject, dataset }));
  log.nginx.push(
    nginxLogLine({
      time_iso8601: at(time),
      request: `GET ${path} HTTP/2.0`,
      ssl_client_s_dn: who.subject,
      provider_client_id: who.clientId,
      provider_authz_status: '204',
      provider_authz_cache: cache,
      sent_http_x_fapi_interaction_id: id,
      ...variables,
    }),
  );
}

/** A request the app answered itself (a refusal, /datasets, /ping): nginx passed it on. */
function appAnswered(
  log: LogSet,
  time: string,
  subject: string,
  request: string,
  status: number,
  app: { clientId?: string; dataset?: string; error?: string; bytes?: number; interactionId?: string; viaAuthz?: boolean },
  variables: NginxVariables = {},
): void {
  const id = app.interactionId ?? idAt(time);
  const path = request.split(' ')[1]!.split('?')[0]!;
  log.app.push(appAccessLine({ time: at(time), interactionId: id, path, status, bytes: app.bytes ?? 80, clientId: app.clientId, certSubject: subject, dataset: app.dataset, error: app.error }));
  log.nginx.push(
    nginxLogLine({
      time_iso8601: at(time),
      request,
      status,
      body_bytes_sent: app.bytes ?? 80,
      upstream_status: String(status),
      upstream_response_time: '0.012',
      ssl_client_s_dn: subject,
      provider_client_id: '',
      // A dataset read asks the app first (403: "ask me"); /datasets, /ping and queries go straight to it.
      provider_authz_status: app.viaAuthz ? '403' : '',
      provider_authz_cache: app.viaAuthz ? 'BYPASS' : '',
      sent_http_x_fapi_interaction_id: id,
      ...variables,
    }),
  );
}

/** A response nginx gave itself: the app never saw the request. */
function nginxOnly(log: LogSet, time: string, variables: NginxVariables): void {
  log.nginx.push(
    nginxLogLine({
      time_iso8601: at(time),
      provider_client_id: '',
      provider_authz_status: '',
      provider_authz_cache: '',
      sent_http_x_fapi_interaction_id: idAt(time),
      ...variables,
    }),
  );
}

const NO_CERTIFICATE: NginxVariables = { status: 400, body_bytes_sent: 120, ssl_client_verify: 'NONE', ssl_client_s_dn: '', ssl_client_i_dn: '', ssl_client_serial: '' };

export function sampleDay(): LogSet {
  const log: LogSet = { nginx: [], app: [] };
  log.app.push(appStartLine(at('07:59:00')));

  // Port 80: the redirect, and a name that is not the provider's (connection closed).
  nginxOnly(log, '08:00:00', { request: 'GET / HTTP/1.1', status: 301, body_bytes_sent: 162, ssl_protocol: '', ssl_cipher: '', ssl_client_verify: '', ssl_client_s_dn: '', ssl_client_i_dn: '', ssl_client_serial: '' });
  nginxOnly(log, '08:00:01', { request: 'GET /wp-login.php HTTP/1.1', status: 444, body_bytes_sent: 0, ssl_protocol: '', ssl_cipher: '', ssl_client_verify: '', ssl_client_s_dn: '', ssl_client_i_dn: '', ssl_client_serial: '' });

  // consumer-a reads meters: a fresh decision, two reused ones (one a 304), and meters.csv.
  allowedRead(log, '09:00:05', CONSUMER_A, '/meters', 'meters', { body_bytes_sent: 1200 });
  allowedRead(log, '09:00:06', CONSUMER_A, '/meters', 'meters', { body_bytes_sent: 1200, cache: 'HIT' });
  allowedRead(log, '09:30:00', CONSUMER_A, '/meters', 'meters', { status: 304, body_bytes_sent: 0, cache: 'HIT' });
  allowedRead(log, '10:15:00', CONSUMER_A, '/meters.csv', 'meters', { body_bytes_sent: 5000 });

  // consumer-a refused by the app: scope, a dataset that is gone; and its listing.
  appAnswered(log, '11:00:00', CONSUMER_A.subject, 'GET /tariffs HTTP/2.0', 403, { clientId: 'consumer-a', dataset: 'tariffs', error: 'this client may not read this resource', viaAuthz: true, interactionId: A_INTERACTION_ID });
  appAnswered(log, '11:05:00', CONSUMER_A.subject, 'GET /old-data HTTP/2.0', 404, { clientId: 'consumer-a', dataset: 'old-data', error: 'no such dataset', viaAuthz: true, interactionId: A_INTERACTION_ID });
  appAnswered(log, '11:10:00', CONSUMER_A.subject, 'GET /datasets HTTP/2.0', 200, { clientId: 'consumer-a', bytes: 410, interactionId: A_INTERACTION_ID });

  // consumer-b: no token (the app knows only the certificate), a read, an expired token, a token in the query string.
  appAnswered(log, '12:00:00', CONSUMER_B.subject, 'GET /carbon-intensity HTTP/1.1', 401, { dataset: 'carbon-intensity', error: 'an access token is required (Authorization: Bearer <token>)', viaAuthz: true });
  allowedRead(log, '12:01:00', CONSUMER_B, '/carbon-intensity', 'carbon-intensity', { body_bytes_sent: 30000 });
  appAnswered(log, '12:02:00', CONSUMER_B.subject, 'GET /carbon-intensity HTTP/1.1', 401, { dataset: 'carbon-intensity', error: 'the access token has expired', viaAuthz: true });
  appAnswered(log, '13:00:00', CONSUMER_B.subject, `GET /carbon-intensity?access_token=${QUERY_TOKEN}&format=csv HTTP/1.1`, 400, {
    dataset: 'carbon-intensity',
    error: 'access tokens are not accepted in the query string; use the Authorization header',
  });

  // consumer-a over its request rate: nginx's 429s, before any app decision.
  for (const s of ['14:00:00', '14:00:01', '14:00:02']) nginxOnly(log, s, { request: 'GET /meters HTTP/2.0', status: 429, body_bytes_sent: 130, ssl_client_s_dn: CONSUMER_A.subject, sent_http_x_fapi_interaction_id: A_INTERACTION_ID });

  // No certificate, and one that failed verification: nginx's 400 (client-certificate.json).
  nginxOnly(log, '15:00:00', { ...NO_CERTIFICATE, request: 'GET /meters HTTP/1.1', http_user_agent: 'curl/8.5.0' });
  nginxOnly(log, '15:01:00', { ...NO_CERTIFICATE, request: 'GET /meters HTTP/1.1', ssl_client_verify: 'FAILED:unable to verify the first certificate', ssl_client_s_dn: 'CN=intruder' });

  // The app is down: nginx tried the socket three times, then its 502 page.
  nginxOnly(log, '16:00:00', { request: 'GET /meters HTTP/2.0', status: 502, body_bytes_sent: 96, upstream_status: '502, 502, 502', provider_authz_status: '500', ssl_client_s_dn: CONSUMER_A.subject, sent_http_x_fapi_interaction_id: A_INTERACTION_ID });

  // A monitor with a certificate of its own and no token checks /ping.
  appAnswered(log, '16:30:00', MONITOR_SUBJECT, 'GET /ping HTTP/1.1', 200, { bytes: 36 });

  // Hostile values: a user agent and a path that are markup, a subject that is markup, control characters, a very long user agent.
  nginxOnly(log, '17:00:00', { ...NO_CERTIFICATE, request: `GET ${HOSTILE_PATH} HTTP/1.1`, http_user_agent: HOSTILE_USER_AGENT });
  appAnswered(log, '17:01:00', HOSTILE_SUBJECT, 'GET /meters HTTP/1.1', 401, { dataset: 'meters', error: 'an access token is required (Authorization: Bearer <token>)', viaAuthz: true });
  nginxOnly(log, '17:02:00', { ...NO_CERTIFICATE, http_user_agent: CONTROL_USER_AGENT });
  nginxOnly(log, '17:03:00', { ...NO_CERTIFICATE, http_user_agent: LONG_USER_AGENT });

  return log;
}

/** The day's lines plus what a real log also holds: the day before, and lines that are not access lines. */
export function sampleDayWithNoise(): LogSet {
  const day = sampleDay();
  return {
    nginx: [
      nginxLogLine({ time_iso8601: '2026-01-21T23:59:59+00:00', request: 'GET /meters HTTP/2.0', provider_authz_cache: 'HIT' }),
      ...day.nginx.slice(0, 3),
      '{"time":"2026-01-22T09:10:00+00:00","request":"GET /met',
      'nginx: [warn] a line that is not JSON',
      ...day.nginx.slice(3),
    ],
    app: [...day.app, 'Error: a stack trace line PM2 captured', '    at Object.<anonymous> (/opt/provider/app.js:1:1)'],
  };
}
