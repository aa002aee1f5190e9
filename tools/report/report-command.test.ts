import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AccessReport } from '../../lib/access-report/access-report';
import { parseInstant, runReportCli } from './report-command';
import { nginxLogLine } from '../../lib/access-report/test-support/nginx-log-line';
import { HOSTILE_SUBJECT, QUERY_TOKEN, sampleDayWithNoise } from '../../lib/access-report/test-support/sample-day';

let dir: string;
let nginxLog: string;
let appLog: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-cli-'));
  const day = sampleDayWithNoise();
  nginxLog = join(dir, 'access.json.log');
  appLog = join(dir, 'provider-out.log');
  writeFileSync(nginxLog, `${day.nginx.join('\n')}\n`);
  writeFileSync(appLog, `${day.app.join('\n')}\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function report(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ write: (t: string | Uint8Array) => into.push(String(t)) > 0 }) as unknown as NodeJS.WritableStream;
  const code = await runReportCli(args, { stdout: sink(out), stderr: sink(err), now: () => new Date('2026-01-23T06:00:00Z') });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('provider-host report', () => {
  it('--help: the usage on stdout, exit 0', async () => {
    const run = await report('--help');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Usage: provider-host report <nginx access log>\.\.\. \[--app-log <file>\]\.\.\./);
  });

  it('a day: the summary on stdout, nothing on stderr, exit 0', async () => {
    const run = await report(nginxLog, '--app-log', appLog, '--day', '2026-01-22');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Access report, 2026-01-22 00:00:00 to 2026-01-23 00:00:00 UTC/);
    expect(run.stdout).toContain('24 requests,');
    expect(run.stdout).toContain(`${nginxLog}: 2 malformed line(s) skipped (line 5, 6)`);
    expect(run.stdout).toContain('1 nginx line(s) outside the window');
  });

  it('--json: the same model as JSON on stdout, for other tools', async () => {
    const run = await report(nginxLog, '--app-log', appLog, '--day', '2026-01-22', '--json');
    expect(run.code).toBe(0);
    const model = JSON.parse(run.stdout) as AccessReport;
    expect(model.schema).toBe('provider-host/access-report@1');
    expect(model.totals.requests).toBe(24);
    expect(model.inputs.files.map((f) => [f.kind, f.file, f.lines, f.malformed])).toEqual([
      ['app', appLog, sampleDayWithNoise().app.length, 2],
      ['nginx', nginxLog, 27, 2],
    ]);
  });

  it('--out: the HTML page written, named on stderr; the summary still on stdout', async () => {
    const out = join(dir, 'report.html');
    const run = await report(nginxLog, '--app-log', appLog, '--out', out);
    expect(run).toMatchObject({ code: 0, stderr: `wrote ${out}\n` });
    expect(run.stdout).toMatch(/^Access report, all lines/);
    const page = readFileSync(out, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).not.toContain(HOSTILE_SUBJECT);
  });

  it("reads rotated, gzip'd logs with the current one, and a file named twice once", async () => {
    const rotated = join(dir, 'access.json.log.2.gz');
    writeFileSync(rotated, gzipSync(`${nginxLogLine({ time_iso8601: '2026-01-22T06:00:00+00:00' })}\n`));
    const run = await report(nginxLog, rotated, nginxLog, '--day', '2026-01-22', '--json');
    expect((JSON.parse(run.stdout) as AccessReport).totals.requests).toBe(25);
  });

  it('never shows a token from a query string: not in the summary, the JSON or the page', async () => {
    const out = join(dir, 'report.html');
    const outputs = [(await report(nginxLog, '--app-log', appLog, '--out', out)).stdout, (await report(nginxLog, '--app-log', appLog, '--json')).stdout, readFileSync(out, 'utf8')];
    expect(outputs[1]).toContain('access_token=[redacted]');
    for (const output of outputs) expect(output).not.toContain(QUERY_TOKEN);
  });

  it('survives invalid UTF-8, control bytes and garbage: counted, skipped, no raw control character out', async () => {
    const junk = Buffer.concat([
      Buffer.from(`${nginxLogLine({ http_user_agent: 'agent-\u001b]0;pwned\u0007' }).replace('agent-', 'agent-\u00ff')}\n`, 'latin1'),
      Buffer.from([0x00, 0x01, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]),
      Buffer.from('{"time":"2026-01-22T10:00:00+00:00","status":200,"request":"","user_agent":"\\u001b[2J"}\n'),
    ]);
    const file = join(dir, 'junk.log');
    writeFileSync(file, junk);
    const run = await report(file);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 requests,');
    expect(run.stdout).toContain(`${file}: 1 malformed line(s) skipped (line 2)`);
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('a missing file: one line naming it, exit 2, nothing on stdout', async () => {
    const missing = join(dir, 'access.json.log.1');
    expect(await report(nginxLog, missing)).toEqual({ code: 2, stdout: '', stderr: `error: no such file: ${missing}\n` });
    expect(await report(nginxLog, '--app-log', join(dir, 'pm2.log'))).toMatchObject({ code: 2, stderr: `error: no such file: ${join(dir, 'pm2.log')}\n` });
  });

  it('a page that cannot be written: one line naming it', async () => {
    const out = join(dir, 'no-such-folder', 'report.html');
    expect(await report(nginxLog, '--out', out)).toMatchObject({ code: 2, stderr: `error: cannot write ${out}: the folder ${join(dir, 'no-such-folder')} does not exist; choose another --out\n` });
  });

  it('the app log given as the nginx log: a warning that says so', async () => {
    const run = await report(appLog);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`warning: none of the ${sampleDayWithNoise().app.length} lines of ${appLog} is an nginx access line (log_format provider_json); is it the app's log (--app-log)?\n`);
  });

  it.each([
    [[], 'name the nginx access log(s) to read'],
    [['--day', '22/01/2026'], '--day "22/01/2026" is not a day; use YYYY-MM-DD'],
    [['--day', '2026-02-30'], '--day "2026-02-30" is not an ISO 8601 date or time'],
    [['--since', 'yesterday'], '--since "yesterday" is not an ISO 8601 date or time; use e.g. 2026-01-22 or 2026-01-22T06:00Z'],
    [['--day', '2026-01-22', '--since', '2026-01-22'], '--day is a whole day: give it alone, or --since/--until instead'],
    [['--since', '2026-01-23', '--until', '2026-01-22'], '--since must be before --until'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('bad usage %j: exit 2, the problem and a hint', async (args, message) => {
    const run = await report(...(args.length === 0 || args[0] === '--frobnicate' ? args : [nginxLog, ...args]));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: ${message}`);
    expect(run.stderr).toMatch(/\n {2}hint: provider-host report --help\n$/);
  });
});

describe('times on the command line', () => {
  it('a date or a date-time; without a zone, UTC', () => {
    expect(parseInstant('2026-01-22', '--since')).toBe(Date.parse('2026-01-22T00:00:00Z'));
    expect(parseInstant('2026-01-22T06:30', '--since')).toBe(Date.parse('2026-01-22T06:30:00Z'));
    expect(parseInstant('2026-01-22T06:30:15.5+01:00', '--since')).toBe(Date.parse('2026-01-22T05:30:15.500Z'));
  });
});
