/**
 * The heartbeat against a real access-log file written in nginx's JSON format
 * (nginx/snippets/log-format.conf): lines the app answered, lines nginx answered on a reused
 * decision (authz_cache HIT) and nginx's own refusals (400 for a missing certificate, 429,
 * 495), heartbeat calls, a garbage line; two instances sharing one stateDir (two PM2
 * workers), concurrent calls, and logrotate's rename.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Heartbeat, HEARTBEAT_LOCK_FILE, HEARTBEAT_STATE_FILE, HeartbeatBusy } from './heartbeat';

let dir: string;
let log: string;
let stateDir: string;
let warnings: unknown[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heartbeat-'));
  log = join(dir, 'access.json.log');
  stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  warnings = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One line as nginx's provider_json format writes it. */
function nginxLine(status: number, request: string, extra: Record<string, string> = {}): string {
  return `${JSON.stringify({
    time: '2026-12-05T15:00:00+00:00',
    remote_addr: '127.0.0.1',
    request,
    status,
    bytes_sent: 12,
    request_time: 0.001,
    upstream_response_time: '',
    upstream_status: '',
    ssl_protocol: 'TLSv1.3',
    ssl_cipher: 'TLS_AES_128_GCM_SHA256',
    client_verify: 'SUCCESS',
    client_subject: 'CN=https://directory.example/app/1',
    client_issuer: 'CN=Test Client Issuer',
    client_serial: '01',
    fapi_interaction_id: 'x',
    client_id: '',
    authz_status: '',
    authz_cache: '',
    user_agent: 'curl/8',
    ...extra,
  })}\n`;
}
const write = (...lines: string[]) => appendFileSync(log, lines.join(''));

const instance = (clock: { now: number }, over: Partial<ConstructorParameters<typeof Heartbeat>[0]> = {}) =>
  new Heartbeat({
    accessLogFile: log,
    stateDir,
    path: '/heartbeat',
    logger: { warn: (o: unknown) => warnings.push(o), info: () => undefined },
    now: () => clock.now,
    ...over,
  });

describe('Heartbeat', () => {
  it('counts every response of the period from the log, whoever answered, except heartbeat calls, across two workers', async () => {
    write(nginxLine(200, 'GET /old HTTP/1.1'));
    const clock = { now: Date.parse('2026-12-05T15:00:00Z') };
    const workerA = instance(clock);
    const workerB = instance(clock);
    // Both workers start; the first to find no state fixes the start of the first period.
    await workerA.initialize();
    clock.now += 1000;
    await workerB.initialize();

    write(
      nginxLine(200, 'GET /voltages HTTP/1.1', { upstream_status: '200' }), // the app answered
      nginxLine(200, 'GET /voltages HTTP/1.1', {
        authz_status: '204',
        authz_cache: 'HIT',
      }), // nginx on a reused decision
      nginxLine(400, 'GET /voltages HTTP/1.1', { client_verify: 'NONE' }), // nginx: no certificate
      nginxLine(429, 'GET /voltages HTTP/1.1'), // nginx: rate limit
      nginxLine(495, 'GET /voltages HTTP/1.1', {
        client_verify: 'FAILED:certificate revoked',
      }), // nginx: revoked (logged 495)
      nginxLine(403, 'GET /secret HTTP/1.1', { upstream_status: '403' }),
      nginxLine(200, 'GET /heartbeat HTTP/1.1'),
      nginxLine(401, 'GET /HEARTBEAT/?x=1 HTTP/1.1')
    );
    clock.now = Date.parse('2026-12-05T15:05:00Z');
    const first = await workerB.beat();
    expect(first).toEqual({
      period_start: '2026-12-05T15:00:00.000Z',
      period_end: '2026-12-05T15:05:00.000Z',
      api_call_response_200_count: 2,
      api_call_response_400_count: 1,
      api_call_response_403_count: 1,
      api_call_response_429_count: 1,
      api_call_response_495_count: 1,
    });
    // The other worker answers the next call: the period runs from the previous call, whichever worker answered it.
    write(nginxLine(200, 'GET /heartbeat HTTP/1.1'), nginxLine(404, 'GET /nope HTTP/1.1'));
    clock.now = Date.parse('2026-12-05T15:10:00Z');
    expect(await workerA.beat()).toEqual({
      period_start: '2026-12-05T15:05:00.000Z',
      period_end: '2026-12-05T15:10:00.000Z',
      api_call_response_404_count: 1,
    });
    clock.now += 1000;
    expect(await workerB.beat()).toEqual({
      period_start: '2026-12-05T15:10:00.000Z',
      period_end: '2026-12-05T15:10:01.000Z',
    });
    expect(warnings).toEqual([]);
  });

  it('skips a line that is not JSON (and one without a numeric status), warns with the count, and goes on', async () => {
    const clock = { now: Date.now() };
    const hb = instance(clock);
    await hb.initialize();
    write(nginxLine(200, 'GET /a HTTP/1.1'), 'this is not json\n', '{"status":"200"}\n', nginxLine(200, 'GET /b HTTP/1.1'));
    clock.now += 1000;
    expect(await hb.beat()).toMatchObject({ api_call_response_200_count: 2 });
    expect(warnings).toEqual([expect.objectContaining({ skipped: 2 })]);
  });

  it('leaves a line nginx has not finished writing for the next call', async () => {
    const clock = { now: Date.now() };
    const hb = instance(clock);
    await hb.initialize();
    const whole = nginxLine(201, 'GET /a HTTP/1.1');
    write(nginxLine(200, 'GET /b HTTP/1.1'), whole.slice(0, 40));
    expect(await hb.beat()).toMatchObject({ api_call_response_200_count: 1 });
    write(whole.slice(40));
    const next = await hb.beat();
    expect(next).toMatchObject({ api_call_response_201_count: 1 });
    expect(next).not.toHaveProperty('api_call_response_200_count');
    expect(warnings).toEqual([]);
  });

  it('finishes the rotated file from the saved offset, then reads the new one from its start', async () => {
    const clock = { now: Date.now() };
    const hb = instance(clock);
    write(nginxLine(200, 'GET /before-start HTTP/1.1'));
    await hb.initialize();
    write(nginxLine(201, 'GET /a HTTP/1.1'));
    expect(await hb.beat()).toMatchObject({ api_call_response_201_count: 1 });
    write(nginxLine(202, 'GET /b HTTP/1.1')); // after the beat, before the rotation
    renameSync(log, `${log}.1`); // logrotate
    write(nginxLine(203, 'GET /c HTTP/1.1'), nginxLine(203, 'GET /d HTTP/1.1')); // nginx reopened: a new file
    const next = await hb.beat();
    expect(next).toEqual({
      period_start: expect.any(String),
      period_end: expect.any(String),
      api_call_response_202_count: 1,
      api_call_response_203_count: 2,
    });
    write(nginxLine(204, 'GET /e HTTP/1.1'));
    expect(await hb.beat()).toEqual({
      period_start: expect.any(String),
      period_end: expect.any(String),
      api_call_response_204_count: 1,
    });
  });

  it('reads at most its byte budget per call; the rest counts in the next one', async () => {
    const clock = { now: Date.now() };
    const line = nginxLine(200, 'GET /a HTTP/1.1');
    const hb = instance(clock, { maxBytesPerCall: line.length * 3 + 5 });
    await hb.initialize();
    write(...Array.from({ length: 5 }, () => line));
    expect(await hb.beat()).toMatchObject({ api_call_response_200_count: 3 });
    expect(await hb.beat()).toMatchObject({ api_call_response_200_count: 2 });
    expect(warnings).toEqual([expect.objectContaining({ file: log })]);
  });

  it('never counts a line twice when workers answer heartbeats at the same time', async () => {
    const clock = { now: Date.now() };
    const workers = Array.from({ length: 4 }, () => instance(clock));
    await workers[0]!.initialize();
    write(...Array.from({ length: 500 }, (_, i) => nginxLine(i % 2 === 0 ? 200 : 404, `GET /d${i} HTTP/1.1`)));
    const reports = await Promise.all(workers.flatMap((w) => [w.beat(), w.beat()]));
    const total = (code: number) => reports.reduce((sum, r) => sum + ((r as unknown as Record<string, number>)[`api_call_response_${code}_count`] ?? 0), 0);
    expect([total(200), total(404)]).toEqual([250, 250]);
  });

  it('without saved state, counts the whole log and starts the period at its first line; a broken state file is replaced', async () => {
    const clock = { now: Date.parse('2026-12-05T16:00:00Z') };
    write(nginxLine(200, 'GET /a HTTP/1.1'));
    expect(await instance(clock).beat()).toEqual({
      period_start: '2026-12-05T15:00:00.000Z',
      period_end: '2026-12-05T16:00:00.000Z',
      api_call_response_200_count: 1,
    });
    writeFileSync(join(stateDir, HEARTBEAT_STATE_FILE), '{"version":1');
    write(nginxLine(200, 'GET /b HTTP/1.1'));
    expect(await instance(clock).beat()).toMatchObject({
      api_call_response_200_count: 2,
    });
    expect(warnings).toEqual([expect.objectContaining({ file: join(stateDir, HEARTBEAT_STATE_FILE) })]);
    expect(JSON.parse(readFileSync(join(stateDir, HEARTBEAT_STATE_FILE), 'utf8'))).toMatchObject({ version: 1, previousAt: '2026-12-05T16:00:00.000Z' });
  });

  it('waits for a lock another worker holds, gives up after lockWaitMs (HeartbeatBusy), and takes over a stale one', async () => {
    const clock = { now: Date.now() };
    const lock = join(stateDir, HEARTBEAT_LOCK_FILE);
    writeFileSync(lock, '12345\n');
    await expect(instance(clock, { lockWaitMs: 100 }).beat()).rejects.toBeInstanceOf(HeartbeatBusy);
    await expect(instance(clock, { lockWaitMs: 100, staleLockMs: 0 }).beat()).resolves.toHaveProperty('period_end');
    expect(warnings).toEqual([expect.objectContaining({ file: lock })]);
  });
});
