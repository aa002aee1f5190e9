/**
 * Operations on real logs: the replica (the real setup.sh, nginx, PM2, the app) serves a
 * known mix of requests — reads, reads on a reused decision, refusals of each kind,
 * hostile header values — and `provider-host report` builds the access report from the
 * access log nginx wrote and the app's PM2 logs: the counts are the requests made, no
 * token is in it, and the hostile values are inert in the HTML.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { mtlsRequest } from '../../testing/replica/mtls-request';
import { sampleDatasets, startProviderReplica, type ProviderReplica } from '../../testing/replica/provider-replica';
import type { AccessReport } from '../../lib/access-report/access-report';
import { runReportCli } from '../../tools/report/report-command';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';

const DATASET = 'half-hourly-consumption';
const HOSTILE_AGENT = '<script>alert(1)</script>"\'</svg>';
let provider: ProviderReplica;
let token: string;
let work: string;

beforeAll(async () => {
  provider = await startProviderReplica({ datasets: sampleDatasets() });
  token = await provider.token('consumer');
  work = mkdtempSync(join(tmpdir(), 'ops-e2e-'));
}, 300000);

afterAll(async () => {
  await provider?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 180000);

function request(path: string, who: 'consumer' | 'other' | 'foreign', headers: Record<string, string> = {}) {
  const { replica, pki, siteCaPem } = provider;
  const cert = who === 'consumer' ? pki.consumer : who === 'other' ? provider.otherConsumer : provider.foreignClient;
  return mtlsRequest({ port: replica.httpsPort, path, ca: siteCaPem, servername: replica.domain, cert: cert.chainPem, key: cert.keyPem, headers });
}

async function report(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const code = await runReportCli(args, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('the access report on the replica\'s own logs', () => {
  it('counts the reads, reused decisions and refusals made, per consumer and dataset, with no token in it; hostile values stay text', async () => {
    const reads = 12;
    for (let i = 0; i < reads; i += 1) {
      const response = await request(`/${DATASET}`, 'consumer', { Authorization: `Bearer ${token}`, 'User-Agent': i === 0 ? HOSTILE_AGENT : 'ops-e2e' });
      expect(response.ok && response.status).toBe(200);
    }
    for (let i = 0; i < 3; i += 1) expect((await request(`/${DATASET}`, 'other')).ok).toBe(true); // no token: 401 from the app
    expect((await request(`/${DATASET}`, 'foreign')).ok).toBe(true); // outside the trust bundle: 400 from nginx
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500)); // the app's log lines are batched

    const accessLog = join(provider.replica.path('var', 'log', 'nginx'), 'access.json.log');
    const pm2Logs = join(provider.replica.setting('PH_PM2_HOME')!, 'logs');
    const appLogs = readdirSync(pm2Logs).filter((name) => name.endsWith('.log')).map((name) => join(pm2Logs, name));
    expect(appLogs.length).toBeGreaterThan(0);
    const json = await report([accessLog, ...appLogs.flatMap((file) => ['--app-log', file]), '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const model = JSON.parse(json.stdout) as AccessReport;

    const consumerRow = model.rows.find((row) => row.consumer === 'consumer' && row.dataset === DATASET)!;
    expect(consumerRow).toMatchObject({ requests: reads, successes: reads, consumerKind: 'client' });
    expect(consumerRow.bytesSent).toBe(reads * sampleDatasets()[`${DATASET}.csv`]!.length);
    expect(consumerRow.reusedDecisions).toBeGreaterThanOrEqual(0);
    const refused = model.rows.filter((row) => row.dataset === DATASET || row.consumerKind === 'anonymous').flatMap((row) => row.refusals);
    expect(refused.filter((r) => r.status === 401).reduce((sum, r) => sum + r.requests, 0)).toBe(3);
    expect(refused.filter((r) => r.status === 400).reduce((sum, r) => sum + r.requests, 0)).toBeGreaterThanOrEqual(1);
    const lines = readFileSync(accessLog, 'utf8').trim().split('\n').length;
    expect(model.totals.requests + model.inputs.outsideWindow).toBe(lines);
    expect(json.stdout).not.toContain(token);
    expect(model.userAgents.some((agent) => agent.userAgent.includes('<script>'))).toBe(true);

    const page = join(work, 'report.html');
    const html = await report([accessLog, ...appLogs.flatMap((file) => ['--app-log', file]), '--out', page]);
    expect(html.code).toBe(0);
    expect(existsSync(page)).toBe(true);
    const text = readFileSync(page, 'utf8');
    expect(text).not.toContain('<script');
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).not.toContain(token);
    expect(text).toMatch(/<svg[\s\S]+<\/svg>/);
    // docs/operations.md's screenshot is of this page: REPORT_SAMPLE_OUT=<file> keeps it.
    if (process.env.REPORT_SAMPLE_OUT) copyFileSync(page, process.env.REPORT_SAMPLE_OUT);
  }, 120000);
});

/** What the AWS stand-in recorded for each `aws sesv2 send-email`. */
interface SentMail { messageId: string; region: string; from: string; destination: { ToAddresses: string[] }; subject: string; html: string; text: string }

describe('the daily report, as provider-host-report.timer runs it', () => {
  const MAILED = 'carbon-intensity';
  const RECIPIENTS = ['ops@replica.test', 'data-team@replica.test'];
  const outbox = (): SentMail[] => {
    const file = join(provider.replica.awsRoot, 'ses', 'outbox.jsonl');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as SentMail) : [];
  };

  it('builds the day\'s report from the logs, writes the page and its JSON to the bucket and mails it through SES to the recipients; no token in any of it', async () => {
    const { replica } = provider;
    const reads = 5;
    for (let i = 0; i < reads; i += 1) {
      const response = await request(`/${MAILED}`, 'consumer', { Authorization: `Bearer ${token}`, 'User-Agent': 'daily-report-e2e' });
      expect(response.ok && response.status).toBe(200);
    }
    for (let i = 0; i < 2; i += 1) expect((await request(`/${MAILED}`, 'other', { Authorization: 'Bearer not-a-real-token-0123456789abcdef' })).ok).toBe(true);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1500)); // the app's log lines are batched
    const sender = `reports@${replica.domain}`;
    replica.setEnv('PH_REPORT_SENDER', sender);
    replica.setEnv('PH_REPORT_RECIPIENTS', RECIPIENTS.join(','));
    const today = new Date().toISOString().slice(0, 10);

    // Before the stack's identity exists SES refuses the sender: the run fails, and says why.
    const refused = await replica.runHostScript('daily-report', 120000, ['--day', today]);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('daily-report.sh: ERROR: SES did not take the access report');
    expect(refused.output).toContain('MessageRejected');
    expect(outbox()).toEqual([]);

    // The domain identity the stack creates (report-mail.ts), verified by its DKIM records.
    mkdirSync(join(replica.awsRoot, 'ses'), { recursive: true });
    writeFileSync(join(replica.awsRoot, 'ses', 'identities'), `${replica.domain}\n`);
    const run = await replica.runHostScript('daily-report', 120000, ['--day', today]);
    expect({ code: run.code, output: run.output }).toEqual({ code: 0, output: expect.stringContaining(`daily-report.sh: mailed the access report of ${today}: `) });
    expect(run.output).toContain(`to 2 recipient(s) from ${sender} (SES message `);

    const mails = outbox();
    expect(mails).toHaveLength(1);
    const [mail] = mails as [SentMail];
    expect(mail).toMatchObject({ region: 'eu-west-2', from: sender, destination: { ToAddresses: RECIPIENTS } });
    expect(mail.subject).toMatch(new RegExp(`^Access report ${replica.domain.replace(/\./g, '\\.')} ${today}: [\\d,]+ requests?, \\d+ consumers?, [\\d,]+ refused$`));

    // The bucket holds the page mailed and its model, at exactly the keys the role may write.
    const page = readFileSync(join(replica.bucketDir, BUCKET_LAYOUT.accessReportHtmlKey), 'utf8');
    const model = JSON.parse(readFileSync(join(replica.bucketDir, BUCKET_LAYOUT.accessReportJsonKey), 'utf8')) as AccessReport;
    expect(mail.html).toBe(page);
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const tag of ['html', 'body', 'table', 'tr', 'svg']) expect({ tag, open: page.split(`<${tag}`).length - 1 }).toEqual({ tag, open: page.split(`</${tag}>`).length - 1 });

    // Its numbers are the traffic made.
    expect(model.window).toMatchObject({ since: `${today}T00:00:00.000Z` });
    const row = model.rows.find((r) => r.consumer === 'consumer' && r.dataset === MAILED)!;
    expect(row).toMatchObject({ requests: reads, successes: reads, bytesSent: reads * sampleDatasets()[`${MAILED}.csv`]!.length });
    const refusedHere = model.rows.filter((r) => r.dataset === MAILED).reduce((sum, r) => sum + r.requests - r.successes, 0);
    expect(refusedHere).toBe(2);
    expect(mail.subject).toContain(`${model.totals.requests.toLocaleString('en-GB')} request`);
    expect(mail.text).toContain(`${model.totals.requests.toLocaleString('en-GB')} requests`);
    expect(mail.text).toContain(MAILED);
    expect(page).toContain(MAILED);
    expect(mail.html).not.toMatch(/<script|<iframe/i); // hostile log values stay text in the mail too

    for (const text of [JSON.stringify(mail), page, JSON.stringify(model)]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('not-a-real-token-0123456789abcdef');
      expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    }
    const calls = readFileSync(join(replica.awsRoot, 'calls.log'), 'utf8');
    expect(calls).toContain('sesv2 send-email');
    expect(readFileSync(replica.path('var', 'log', 'provider-host', 'daily-report.log'), 'utf8')).toContain('mailed the access report');
  }, 300000);
});
