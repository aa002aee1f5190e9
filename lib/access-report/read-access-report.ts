/**
 * The access report read from the logs: the part the operator's CLI (`provider-host report`)
 * and the host's daily report share.
 */
import { AccessReportBuilder, type AccessReport, type InputFile } from './access-report';
import { AppLineIndex } from './app-line-index';
import { checkReadable, readLogLines } from './log-files';
import { parseAppLine, parseNginxLine } from './parse-logs';

/** How many malformed line numbers a file's summary lists. */
const MALFORMED_SHOWN = 5;

/** Reads one file through `parse`, counting its lines and the malformed ones. */
async function readFile<T>(file: string, kind: InputFile['kind'], parseLine: (line: string) => T | undefined, use: (record: T) => void): Promise<{ input: InputFile; parsed: number }> {
  let lines = 0;
  let malformed = 0;
  let parsed = 0;
  const malformedLines: number[] = [];
  for await (const line of readLogLines(file)) {
    lines += 1;
    if (line.trim() === '') continue;
    const record = parseLine(line);
    if (record === undefined) {
      malformed += 1;
      if (malformedLines.length < MALFORMED_SHOWN) malformedLines.push(lines);
      continue;
    }
    parsed += 1;
    use(record);
  }
  return { input: { file, kind, lines, malformed, malformedLines }, parsed };
}

/** What a report is built from: the logs, the window, the time it is generated. */
export interface ReportSources {
  readonly nginxLogs: readonly string[];
  readonly appLogs: readonly string[];
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  readonly now: Date;
}

/**
 * Reads the logs into the report model (the CLI and the host's daily report share it).
 * Throws LogFileError for a file it cannot read; `warn` hears about files that look wrong.
 */
export async function readAccessReport(sources: ReportSources, warn: (text: string) => void): Promise<AccessReport> {
  // Every file is checked before any is read: a typo fails at once, not after a long read.
  for (const file of [...sources.nginxLogs, ...sources.appLogs]) await checkReadable(file);
  const files: InputFile[] = [];

  const app = new AppLineIndex();
  for (const file of sources.appLogs) {
    let accessLines = 0;
    const { input } = await readFile(file, 'app', parseAppLine, (record) => {
      if (record === 'other') return;
      accessLines += 1;
      app.add(record);
    });
    files.push(input);
    if (input.lines > 0 && accessLines === 0) warn(`${file} has no access line of the app ("access":true); is it the app's log (pm2 logs)?`);
  }

  const builder = new AccessReportBuilder({ now: sources.now.getTime(), ...(sources.since !== undefined ? { since: sources.since } : {}), ...(sources.until !== undefined ? { until: sources.until } : {}) }, app);
  for (const file of sources.nginxLogs) {
    const { input, parsed } = await readFile(file, 'nginx', parseNginxLine, (record) => builder.add(record));
    files.push(input);
    if (input.lines > 0 && parsed === 0) warn(`none of the ${input.lines} lines of ${file} is an nginx access line (log_format provider_json); is it the app's log (--app-log)?`);
  }
  return builder.build(files);
}
