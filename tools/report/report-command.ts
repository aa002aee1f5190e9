/**
 * `provider-host report <nginx logs...>`: the access report of a day (or any window) from
 * the host's logs. The summary (or `--json`) on stdout; the HTML page to `--out`; messages
 * on stderr. Exit codes: 0 done, 2 bad usage or an unreadable log (named), 1 anything else.
 * Nothing here reads process.argv or the clock directly: the entry passes them in.
 */
import { resolve } from 'node:path';
import { OutputFileError, writeOutputFile } from '../lib/output-file';
import { parseArgs } from 'node:util';
import { LogFileError } from '../../lib/access-report/log-files';
import { readAccessReport } from '../../lib/access-report/read-access-report';
import { renderHtml } from '../../lib/access-report/render-html';
import { renderText } from '../../lib/access-report/render-text';

export const REPORT_HELP = `Usage: provider-host report <nginx access log>... [--app-log <file>]... [--day YYYY-MM-DD | --since <ISO> --until <ISO>] [--out <report.html>] [--json]

An access report per consumer and dataset from the host's logs: requests, bytes sent,
served, refused (by status, error code and reason), first and last seen; the top errors,
requests per hour and the status codes. Logs may be gzip'd (access.json.log.2.gz).

  <nginx access log>   /var/log/nginx/access.json.log (and its rotated copies): every response
  --app-log <file>     the app's log (PM2's log file, or saved \`pm2 logs\` output): adds the
                       reason of each refusal the app gave and the client id; repeat for more files
  --day YYYY-MM-DD     that day, 00:00 to 24:00 UTC
  --since <ISO>        from this time (inclusive), e.g. 2026-01-22T06:00Z (no zone: UTC)
  --until <ISO>        to this time (exclusive)
  --out <file>         also write the report as one self-contained HTML page
  --json               the report as JSON on stdout instead of the summary (schema in the "schema" field)
  -h, --help           this text

A consumer is its OAuth client id when known, else its verified certificate's subject, else
"anonymous". Query-string values and anything that looks like a token are redacted.`;

export interface ReportCliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

class UsageError extends Error {}
/** The HTML page could not be written where --out says. */

/** Malformed line numbers kept per file, to point at. */

interface Options {
  readonly nginxLogs: string[];
  readonly appLogs: string[];
  readonly since?: number;
  readonly until?: number;
  readonly out?: string;
  readonly json: boolean;
}

const ISO = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:\d{2})?)?$/;

/** An ISO 8601 date or date-time as epoch ms; one without a zone is UTC (the report's zone). */
export function parseInstant(text: string, flag: string): number {
  const match = ISO.exec(text);
  const ms = match ? Date.parse(`${match[1]}T${match[2] ?? '00:00'}${match[3] ?? 'Z'}`) : NaN;
  // Date.parse rolls 2026-02-30 over to March: a date must read back as written.
  if (!match || !Number.isFinite(ms) || new Date(Date.parse(`${match[1]}T00:00Z`)).toISOString().slice(0, 10) !== match[1]) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not an ISO 8601 date or time; use e.g. 2026-01-22 or 2026-01-22T06:00Z`);
  }
  return ms;
}

/** Each file once, as given: the same file named twice would count every line twice. */
function distinct(files: readonly string[]): string[] {
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(resolve(file)) && seen.add(resolve(file)));
}

function parse(argv: readonly string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'app-log': { type: 'string', multiple: true },
        day: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length === 0) throw new UsageError('name the nginx access log(s) to read, e.g. /var/log/nginx/access.json.log');
  let since = v.since === undefined ? undefined : parseInstant(v.since, '--since');
  let until = v.until === undefined ? undefined : parseInstant(v.until, '--until');
  if (v.day !== undefined) {
    if (since !== undefined || until !== undefined) throw new UsageError('--day is a whole day: give it alone, or --since/--until instead');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v.day)) throw new UsageError(`--day ${JSON.stringify(v.day)} is not a day; use YYYY-MM-DD, e.g. 2026-01-22`);
    since = parseInstant(v.day, '--day');
    until = since + 24 * 3_600_000;
  }
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError('--since must be before --until');
  return {
    nginxLogs: distinct(parsed.positionals),
    appLogs: distinct(v['app-log'] ?? []),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(v.out !== undefined ? { out: v.out } : {}),
    json: v.json ?? false,
  };
}


async function run(options: Options, io: ReportCliIo): Promise<number> {
  const report = await readAccessReport({ ...options, now: io.now?.() ?? new Date() }, (text) => io.stderr.write(`warning: ${text}\n`));

  if (options.out !== undefined) {
    await writeOutputFile(options.out, renderHtml(report));
    io.stderr.write(`wrote ${options.out}\n`);
  }
  io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
  return 0;
}

export async function runReportCli(argv: readonly string[], io: ReportCliIo): Promise<number> {
  try {
    const options = parse(argv);
    if (options === 'help') {
      io.stdout.write(`${REPORT_HELP}\n`);
      return 0;
    }
    return await run(options, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n  hint: provider-host report --help\n`);
      return 2;
    }
    if (error instanceof LogFileError || error instanceof OutputFileError) {
      io.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    const e = error as Error;
    io.stderr.write(`error: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    return 1;
  }
}
