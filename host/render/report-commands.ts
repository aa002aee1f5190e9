/**
 * `host-render daily-report day=YYYY-MM-DD nginx_log_dir=DIR pm2_log_dir=DIR app=NAME out_dir=DIR`
 * (host/scripts/lib/report.sh): the access report of one UTC day from this host's logs —
 * nginx's JSON access log and its rotated copies, the app's PM2 logs and theirs — written
 * as the files the script uploads and mails:
 *
 *   out_dir/access-report.html   the page (BUCKET_LAYOUT.accessReportHtmlKey)
 *   out_dir/access-report.json   the model (BUCKET_LAYOUT.accessReportJsonKey)
 *   out_dir/mail-content.json    `aws sesv2 send-email --content` (subject, HTML and text parts)
 *   out_dir/mail-destination.json  `--destination` (the recipients)
 *
 * Prints one summary line. A log file last written before the day began holds none of
 * its lines and is not read, so the rotated copies cost nothing once they are old.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUCKET_LAYOUT } from '../../contract/bucket-layout';
import type { HostSettings } from '../../contract/host-settings';
import { LogFileError } from '../../lib/access-report/log-files';
import { readAccessReport } from '../../lib/access-report/read-access-report';
import { reportMailContent } from '../../lib/access-report/report-mail';
import { renderHtml } from '../../lib/access-report/render-html';

export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

const DAY_MS = 86_400_000;
const REQUIRED = ['day', 'nginx_log_dir', 'pm2_log_dir', 'app', 'out_dir'] as const;

/** nginx's access log as the site writes it (nginx/snippets), and logrotate's copies (.1, .2.gz, …). */
export const NGINX_ACCESS_LOG_RE = /^access\.json\.log(\.\d+)?(\.gz)?$/;
/** PM2's merged logs of the app (<app>-out.log, <app>-error.log) and logrotate's copies. */
export const appLogRe = (app: string): RegExp => new RegExp(`^${app.replace(/[^A-Za-z0-9_-]/g, '\\$&')}-(out|error)\\.log(\\.\\d+)?(\\.gz)?$`);

/** The start of a YYYY-MM-DD day (UTC) in epoch ms; refuses what is not a real day. */
export function dayStart(day: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== day) throw new ReportError(`day=${JSON.stringify(day)} is not a day; use YYYY-MM-DD, e.g. 2026-12-04`);
  return ms;
}

/** The files of `dir` whose name matches and that were written at or after `since` (oldest copy first). */
export function logFilesSince(dir: string, name: RegExp, since: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ReportError(`cannot list ${dir}: ${(error as Error).message}`);
  }
  return names
    .filter((file) => name.test(file))
    .map((file) => ({ file: join(dir, file), mtime: statSync(join(dir, file)).mtimeMs }))
    .filter((entry) => entry.mtime >= since)
    .sort((a, b) => a.mtime - b.mtime)
    .map((entry) => entry.file);
}

export async function dailyReportCommand(settings: HostSettings, values: Readonly<Record<string, string>>, log: (line: string) => void, now: Date): Promise<string> {
  const missing = REQUIRED.filter((key) => !values[key]);
  if (missing.length > 0) throw new ReportError(`daily-report needs ${missing.map((key) => `${key}=`).join(' ')}`);
  if (settings.reportSender === undefined || settings.reportRecipients === undefined) {
    throw new ReportError('PH_REPORT_SENDER and PH_REPORT_RECIPIENTS are not set: the report is off (operations.report.enabled in the environment file)');
  }
  const day = values.day!;
  const since = dayStart(day);
  const nginxLogs = logFilesSince(values.nginx_log_dir!, NGINX_ACCESS_LOG_RE, since);
  const appLogs = logFilesSince(values.pm2_log_dir!, appLogRe(values.app!), since);
  if (nginxLogs.length === 0) log(`no nginx access log written since ${day} in ${values.nginx_log_dir}: the report shows no requests`);

  let report;
  try {
    report = await readAccessReport({ nginxLogs, appLogs, since, until: since + DAY_MS, now }, (text) => log(`warning: ${text}`));
  } catch (error) {
    if (error instanceof LogFileError) throw new ReportError(error.message);
    throw error;
  }
  const pageLocation = `s3://${settings.bucket}/${BUCKET_LAYOUT.accessReportHtmlKey}`;
  const out = values.out_dir!;
  writeFileSync(join(out, 'access-report.html'), renderHtml(report), { mode: 0o600 });
  writeFileSync(join(out, 'access-report.json'), `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(join(out, 'mail-content.json'), JSON.stringify(reportMailContent(report, { domain: settings.domain, day, pageLocation })), { mode: 0o600 });
  writeFileSync(join(out, 'mail-destination.json'), JSON.stringify({ ToAddresses: settings.reportRecipients.split(',') }), { mode: 0o600 });
  const t = report.totals;
  return `${day}: ${t.requests} requests, ${t.bytesSent} bytes, ${t.refusals} refused, ${t.consumers} consumers, ${t.datasets} datasets from ${nginxLogs.length} nginx and ${appLogs.length} app log file(s)\n`;
}
