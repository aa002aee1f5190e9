import { appAccessLine, appDecisionLine, appStartLine } from './test-support/app-log-line';
import { logFormatFields, nginxLogLine } from './test-support/nginx-log-line';
import { NGINX_FIELDS_READ, parseAppLine, parseNginxLine } from './parse-logs';

describe('parseNginxLine', () => {
  it('reads only fields that nginx/snippets/log-format.conf writes (a rename there fails here)', () => {
    const written = logFormatFields();
    expect(NGINX_FIELDS_READ.filter((field) => !written.includes(field))).toEqual([]);
  });

  it('reads a dataset read nginx served on the app decision', () => {
    const line = nginxLogLine({ time_iso8601: '2026-01-22T10:00:00+00:00', request: 'GET /meters.csv HTTP/2.0', provider_authz_cache: 'HIT' });
    expect(parseNginxLine(line)).toEqual({
      time: Date.parse('2026-01-22T10:00:00Z'),
      request: 'GET /meters.csv HTTP/2.0',
      target: { kind: 'dataset', label: 'meters' },
      status: 200,
      bytesSent: 1200,
      requestTime: 0.004,
      sslProtocol: 'TLSv1.3',
      clientVerify: 'SUCCESS',
      clientSubject: 'CN=consumer-a,O=Example Energy Ltd,C=GB',
      clientSerial: '5A3F0C21',
      interactionId: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
      clientId: 'consumer-a',
      authzStatus: 204,
      authzCache: 'HIT',
      userAgent: 'consumer-client/1.4 (+https://consumer.example)',
    });
  });

  it('takes the last of several upstream statuses (nginx tried the socket again)', () => {
    expect(parseNginxLine(nginxLogLine({ status: 401, upstream_status: '502, 401' }))?.upstreamStatus).toBe(401);
    expect(parseNginxLine(nginxLogLine({ status: 200, upstream_status: '' }))?.upstreamStatus).toBeUndefined();
  });

  it('an empty or "-" value is absent, not an empty string', () => {
    const record = parseNginxLine(nginxLogLine({ ssl_client_verify: 'NONE', ssl_client_s_dn: '', provider_client_id: '', http_user_agent: '-' }))!;
    expect(record.clientVerify).toBe('NONE');
    expect(['clientSubject', 'clientId', 'userAgent'].filter((key) => key in record)).toEqual([]);
  });

  it('ignores fields it does not know and copes with ones that are missing', () => {
    const line = JSON.parse(nginxLogLine()) as Record<string, unknown>;
    const minimal = { time: line.time, status: 404, request: 'GET /x HTTP/1.1', some_new_field: { nested: true } };
    expect(parseNginxLine(JSON.stringify(minimal))).toEqual({ time: Date.parse('2026-01-22T10:00:00Z'), request: 'GET /x HTTP/1.1', target: { kind: 'dataset', label: 'x' }, status: 404, bytesSent: 0 });
  });

  it('decodes escape=json and cleans what it decoded: control characters never survive', () => {
    const record = parseNginxLine(nginxLogLine({ http_user_agent: 'a\u001b[2J"b\\c\nd' }))!;
    expect(record.userAgent).toBe('a\\x1b[2J"b\\c\\x0ad');
  });

  it.each([
    ['not JSON', 'nginx: [warn] something'],
    ['cut short', nginxLogLine().slice(0, 80)],
    ['an array', '[1,2]'],
    ['no time', JSON.stringify({ status: 200, request: 'GET / HTTP/1.1' })],
    ['a time that is not one', JSON.stringify({ time: 'yesterday', status: 200, request: '' })],
    ['no status', JSON.stringify({ time: '2026-01-22T10:00:00+00:00', request: 'GET / HTTP/1.1' })],
    ['no request', JSON.stringify({ time: '2026-01-22T10:00:00+00:00', status: 200 })],
    ["the app's access line (a time and a status, but no request)", appAccessLine({ time: '2026-01-22T10:00:00Z', interactionId: 'x', path: '/meters', status: 200 })],
    ['a status that is not one', JSON.stringify({ time: '2026-01-22T10:00:00+00:00', status: 2000, request: '' })],
    ["the app's start line", appStartLine('2026-01-22T10:00:00Z')],
  ])('%s: not an access line (undefined, no exception)', (_what, line) => {
    expect(parseNginxLine(line)).toBeUndefined();
  });
});

describe('parseAppLine', () => {
  it('reads the access line of a refusal, as the app writes it', () => {
    const line = appAccessLine({ time: '2026-01-22T11:00:00Z', interactionId: 'id-1', path: '/tariffs', status: 403, clientId: 'consumer-a', certSubject: 'CN=a', dataset: 'tariffs', error: 'this client may not read this resource' });
    expect(parseAppLine(line)).toEqual({ time: Date.parse('2026-01-22T11:00:00Z'), interactionId: 'id-1', status: 403, clientId: 'consumer-a', certSubject: 'CN=a', dataset: 'tariffs', error: 'this client may not read this resource' });
  });

  it('reads the line of a decision nginx acted on (auth_request)', () => {
    const line = appDecisionLine({ time: '2026-01-22T09:00:05Z', interactionId: 'id-2', path: '/meters', clientId: 'consumer-a', certSubject: 'CN=a', dataset: 'meters' });
    expect(parseAppLine(line)).toMatchObject({ interactionId: 'id-2', status: 204, via: 'nginx auth_request', clientId: 'consumer-a', dataset: 'meters' });
  });

  it('reads a line shown by `pm2 logs`, after its prefix', () => {
    const line = appAccessLine({ time: '2026-01-22T11:00:00Z', interactionId: 'id-3', path: '/ping', status: 200 });
    expect(parseAppLine(`0|provider  | ${line}`)).toMatchObject({ interactionId: 'id-3', status: 200 });
  });

  it("another line of the app is 'other'; a line that is not JSON is undefined", () => {
    expect(parseAppLine(appStartLine('2026-01-22T07:59:00Z'))).toBe('other');
    expect(parseAppLine('    at Object.<anonymous> (/opt/provider/app.js:1:1)')).toBeUndefined();
    expect(parseAppLine('{"access":true,')).toBeUndefined();
  });

  it('takes a code the line carries itself', () => {
    const line = JSON.parse(appAccessLine({ time: '2026-01-22T11:00:00Z', interactionId: 'id-4', path: '/m', status: 401, error: 'the access token has expired' })) as Record<string, unknown>;
    expect(parseAppLine(JSON.stringify({ ...line, errorCode: 'invalid_token' }))).toMatchObject({ errorCode: 'invalid_token' });
  });
});
