import { AppLineIndex } from './app-line-index';
import type { AppRecord, NginxRecord } from './parse-logs';

const T = Date.parse('2026-01-22T10:00:00Z');
const nginx = (extra: Partial<NginxRecord>): NginxRecord => ({ time: T, target: { kind: 'dataset', label: 'meters' }, status: 401, bytesSent: 80, interactionId: 'same-id', upstreamStatus: 401, ...extra });
const app = (extra: Partial<AppRecord>): AppRecord => ({ time: T - 20, interactionId: 'same-id', status: 401, error: 'the access token has expired', ...extra });

function index(...records: AppRecord[]): AppLineIndex {
  const built = new AppLineIndex();
  for (const record of records) built.add(record);
  return built;
}

describe("finding the app's line for an nginx line", () => {
  it('same interaction id, at about the same time', () => {
    const line = app({});
    expect(index(app({ interactionId: 'other-id' }), line).match(nginx({}))).toBe(line);
  });

  it('a consumer that sends the same id every time: the line within the request time, not one from an hour before', () => {
    const earlier = app({ time: T - 3_600_000, error: 'no such dataset', status: 404 });
    const now = app({ time: T + 300 });
    expect(index(earlier, now).match(nginx({}))).toBe(now);
    expect(index(earlier).match(nginx({}))).toBeUndefined();
  });

  it('a long download: the app line from its start still matches (the span is request_time)', () => {
    const started = app({ time: T - 95_000, status: 200, error: undefined });
    expect(index(started).match(nginx({ status: 200, upstreamStatus: 200, requestTime: 95.2 }))).toBe(started);
    expect(index(started).match(nginx({ status: 200, upstreamStatus: 200, requestTime: 1 }))).toBeUndefined();
  });

  it('prefers the line with the same status (the answer nginx passed on) over a nearer one', () => {
    const refusal = app({ time: T, status: 401, error: 'the access token has expired' });
    const served = app({ time: T - 900, status: 200, error: undefined, clientId: 'consumer-a' });
    expect(index(refusal, served).match(nginx({ status: 200, upstreamStatus: 200 }))).toBe(served);
    expect(index(refusal, served).match(nginx({ status: 401, upstreamStatus: 401 }))).toBe(refusal);
  });

  it("does not keep the decisions nginx acted on (auth_request): nginx's line names the client itself", () => {
    const decision = app({ status: 204, error: undefined, via: 'nginx auth_request', clientId: 'consumer-a' });
    const built = index(decision);
    expect(built.size).toBe(0);
    expect(built.match(nginx({ status: 200, upstreamStatus: undefined, authzStatus: 204 }))).toBeUndefined();
  });

  it("never for nginx's own answer (no upstream, no subrequest): the app did not see that request", () => {
    expect(index(app({ status: 429 })).match(nginx({ status: 429, upstreamStatus: undefined }))).toBeUndefined();
    expect(index(app({})).match(nginx({ interactionId: undefined }))).toBeUndefined();
  });
});
