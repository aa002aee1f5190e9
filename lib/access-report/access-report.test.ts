import { AccessReportBuilder, buildAccessReport, REPORT_SCHEMA, type AccessReport, type ReportRow } from './access-report';
import { AppLineIndex } from './app-line-index';
import { parsed } from './test-support/parsed';
import { CONSUMER_A, CONSUMER_B, DAY, HOSTILE_SUBJECT, MONITOR_SUBJECT, QUERY_TOKEN, sampleDay, sampleDayWithNoise } from './test-support/sample-day';

const NOW = Date.parse('2026-01-23T06:00:00Z');
const SINCE = Date.parse(`${DAY}T00:00:00Z`);
const UNTIL = SINCE + 24 * 3_600_000;

function dayReport(withApp = true): AccessReport {
  const { nginx, app } = parsed(sampleDayWithNoise());
  return buildAccessReport(nginx, { now: NOW, since: SINCE, until: UNTIL, ...(withApp ? { app } : {}) });
}

function row(report: AccessReport, consumer: string, dataset: string): ReportRow {
  const found = report.rows.find((r) => r.consumer === consumer && r.dataset === dataset);
  if (!found) throw new Error(`no row ${consumer} × ${dataset}; rows: ${report.rows.map((r) => `${r.consumer} × ${r.dataset}`).join(', ')}`);
  return found;
}

describe('the access report of a day', () => {
  const report = dayReport();

  it('counts every response nginx gave in the window, and only those', () => {
    expect(report.totals.requests).toBe(sampleDay().nginx.length);
    expect(report.inputs.outsideWindow).toBe(1);
    expect(report.window).toEqual({ since: `${DAY}T00:00:00.000Z`, until: '2026-01-23T00:00:00.000Z', firstRequest: `${DAY}T08:00:00.000Z`, lastRequest: `${DAY}T17:03:00.000Z` });
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.generatedAt).toBe('2026-01-23T06:00:00.000Z');
  });

  it('a consumer × dataset row: requests, bytes, served, reused decisions, first and last seen', () => {
    const meters = row(report, CONSUMER_A.clientId, 'meters');
    // 4 reads (one a 304; two on a reused decision), 3 × 429 and a 502, all of consumer-a's certificate.
    expect(meters).toMatchObject({ consumerKind: 'client', datasetKind: 'dataset', requests: 8, successes: 4, reusedDecisions: 2, bytesSent: 1200 + 1200 + 0 + 5000 + 3 * 130 + 96 });
    expect([meters.firstSeen, meters.lastSeen]).toEqual([`${DAY}T09:00:05.000Z`, `${DAY}T16:00:00.000Z`]);
  });

  it('refusals by reason: status, code and description, most first', () => {
    expect(row(report, CONSUMER_A.clientId, 'meters').refusals.map((r) => [r.requests, r.status, r.code])).toEqual([
      [3, 429, 'too_many_requests'],
      [1, 502, 'temporarily_unavailable'],
    ]);
    expect(row(report, CONSUMER_A.clientId, 'tariffs').refusals).toEqual([
      { status: 403, code: 'insufficient_scope', description: 'this client may not read this resource', requests: 1, example: 'GET /tariffs HTTP/2.0' },
    ]);
    expect(row(report, CONSUMER_B.clientId, 'carbon-intensity').refusals.map((r) => `${r.status} ${r.code}: ${r.description}`)).toEqual([
      '400 invalid_request: access tokens are not accepted in the query string; use the Authorization header',
      '401 invalid_request: an access token is required (Authorization: Bearer <token>)',
      '401 invalid_token: the access token has expired',
    ]);
  });

  it("a request without a client id of its own counts for the client its certificate was seen with (the 429s, consumer-b's missing token)", () => {
    expect(report.rows.filter((r) => r.consumer === CONSUMER_A.subject || r.consumer === CONSUMER_B.subject)).toEqual([]);
    expect(row(report, CONSUMER_B.clientId, 'carbon-intensity').requests).toBe(4);
  });

  it("a verified certificate never seen with a client id is named by its subject; no verified certificate is 'anonymous', in one row", () => {
    expect(row(report, MONITOR_SUBJECT, '/ping')).toMatchObject({ consumerKind: 'certificate', datasetKind: 'route', requests: 1, successes: 1 });
    expect(row(report, HOSTILE_SUBJECT, 'meters')).toMatchObject({ consumerKind: 'certificate', requests: 1 });
    const anonymous = report.rows.filter((r) => r.consumerKind === 'anonymous');
    expect(anonymous.map((r) => [r.consumer, r.dataset, r.requests])).toEqual([['anonymous', '(any path)', 7]]);
    expect(anonymous[0]!.refusals.map((r) => [r.requests, r.status, r.code, r.description])).toEqual([
      [4, 400, 'invalid_client', 'no client certificate was sent'],
      [1, 400, 'invalid_client', 'the client certificate failed verification (FAILED:unable to verify the first certificate)'],
      [1, 444, undefined, 'connection closed without an answer (a name other than the provider’s)'],
    ]);
  });

  it('rows: clients, then certificates, then anonymous; by name, then most requests', () => {
    expect(report.rows.map((r) => `${r.consumerKind} ${r.consumer} ${r.dataset}`)).toEqual([
      'client consumer-a meters',
      'client consumer-a /datasets',
      'client consumer-a old-data',
      'client consumer-a tariffs',
      'client consumer-b carbon-intensity',
      `certificate ${HOSTILE_SUBJECT} meters`,
      `certificate ${MONITOR_SUBJECT} /ping`,
      'anonymous anonymous (any path)',
    ]);
    expect(report.totals).toMatchObject({ consumers: 5, datasets: 4 });
  });

  it('top errors over all rows, with an example request whose query values are redacted', () => {
    expect(report.topErrors[0]).toMatchObject({ requests: 4, status: 400, code: 'invalid_client' });
    const inQuery = report.topErrors.find((e) => e.description?.includes('query string'));
    expect(inQuery?.example).toBe('GET /carbon-intensity?access_token=[redacted]&format=[redacted] HTTP/1.1');
    expect(JSON.stringify(report)).not.toContain(QUERY_TOKEN);
  });

  it('the status codes, and every hour of the day (24, empty ones included)', () => {
    expect(report.statuses).toEqual([
      { status: 200, requests: 6 },
      { status: 301, requests: 1 },
      { status: 304, requests: 1 },
      { status: 400, requests: 6 },
      { status: 401, requests: 3 },
      { status: 403, requests: 1 },
      { status: 404, requests: 1 },
      { status: 429, requests: 3 },
      { status: 444, requests: 1 },
      { status: 502, requests: 1 },
    ]);
    expect(report.hourly).toHaveLength(24);
    expect(report.hourly[0]).toEqual({ hour: `${DAY}T00:00:00.000Z`, requests: 0, refusals: 0 });
    expect(report.hourly[14]).toEqual({ hour: `${DAY}T14:00:00.000Z`, requests: 3, refusals: 3 });
    expect(report.hourly.reduce((sum, h) => sum + h.requests, 0)).toBe(report.totals.requests);
  });

  it('counts the refusals the app explained, and says when its log is missing', () => {
    expect(report.inputs).toMatchObject({ refusalsExplainedByApp: 6, refusalsWithoutAppLine: 0 });
    const withoutApp = dayReport(false);
    expect(withoutApp.inputs).toMatchObject({ refusalsExplainedByApp: 0, refusalsWithoutAppLine: 6 });
    // Without the app's lines, consumer-b's refusals have no client id and no reason beyond the status.
    expect(row(withoutApp, CONSUMER_B.clientId, 'carbon-intensity').refusals.map((r) => [r.status, r.code ?? null, r.description ?? null])).toEqual([
      [401, null, null],
      [400, 'invalid_request', null],
    ]);
  });
});

describe('the report model', () => {
  it('without a window: everything, the chart spanning the requests', () => {
    const { nginx, app } = parsed(sampleDayWithNoise());
    const report = buildAccessReport(nginx, { now: NOW, app });
    expect(report.inputs.outsideWindow).toBe(0);
    expect(report.hourly[0]!.hour).toBe('2026-01-21T23:00:00.000Z');
    expect(report.hourly[report.hourly.length - 1]!.hour).toBe(`${DAY}T17:00:00.000Z`);
    expect(report.window.since).toBeUndefined();
  });

  it('no requests: zeros and no rows, not an error', () => {
    const report = buildAccessReport([], { now: NOW });
    expect(report.totals).toEqual({ requests: 0, bytesSent: 0, successes: 0, refusals: 0, reusedDecisions: 0, consumers: 0, datasets: 0 });
    expect([report.rows, report.hourly, report.topErrors]).toEqual([[], [], []]);
  });

  it('building twice gives the same report (merging rows changes no tally)', () => {
    const { nginx, app } = parsed(sampleDay());
    const index = new AppLineIndex();
    app.forEach((record) => index.add(record));
    const builder = new AccessReportBuilder({ now: NOW }, index);
    nginx.forEach((line) => builder.add(line));
    expect(builder.build()).toEqual(builder.build());
  });

  it('a certificate subject seen with two client ids stays its own consumer', () => {
    const { nginx } = parsed(sampleDay());
    const a = nginx.find((l) => l.clientId === CONSUMER_A.clientId)!;
    const noClient = nginx.find((l) => l.status === 429)!;
    const report = buildAccessReport([a, { ...a, clientId: 'consumer-a2' }, noClient], { now: NOW });
    expect(report.rows.map((r) => r.consumer)).toEqual([CONSUMER_A.clientId, 'consumer-a2', CONSUMER_A.subject]);
  });

  it('a flood of distinct user agents is counted in one bucket past the first thousands', () => {
    const { nginx } = parsed(sampleDay());
    const line = nginx[0]!;
    const flood = Array.from({ length: 6000 }, (_, i) => ({ ...line, userAgent: `agent-${i}` }));
    const report = buildAccessReport([...flood, ...flood.slice(0, 1)], { now: NOW, topUserAgents: 3 });
    expect(report.userAgents[0]).toEqual({ userAgent: '(other user agents)', requests: 1000 });
    expect(report.userAgents[1]).toEqual({ userAgent: 'agent-0', requests: 2 });
  });
});
