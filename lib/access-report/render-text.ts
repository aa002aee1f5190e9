/**
 * The report model → the plain-text summary on stdout: totals, the busiest consumer ×
 * dataset rows, the top errors, statuses and what was skipped. Values were cleaned when
 * parsed (no control characters reach the terminal); this only lays them out.
 */
import { formatBytes } from '../format-bytes';
import type { AccessReport } from './access-report';
import { describeReason } from './refusal-reason';

/** Rows in the summary; the HTML and JSON have them all. */
export const MAX_TEXT_ROWS = 20;

const n = (value: number) => value.toLocaleString('en-GB');
const time = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

function clip(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text;
}

function table(header: string[], rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(Array.from(h).length, ...rows.map((r) => Array.from(r[i]!).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function renderText(report: AccessReport): string {
  const t = report.totals;
  const { since, until, firstRequest, lastRequest } = report.window;
  const lines: string[] = [];
  const window = since || until ? `${since ? time(since) : '…'} to ${until ? time(until) : '…'} UTC` : 'all lines';
  lines.push(`Access report, ${window}${firstRequest && lastRequest ? ` (requests ${time(firstRequest)} to ${time(lastRequest)})` : ''}`);
  lines.push(
    `${n(t.requests)} requests, ${formatBytes(t.bytesSent)} sent, ${n(t.successes)} served, ${n(t.refusals)} refused, ${n(t.reusedDecisions)} on a reused decision; ${n(t.consumers)} consumers, ${n(t.datasets)} datasets`,
  );
  if (t.requests === 0) lines.push('No requests in this window.');

  if (report.rows.length > 0) {
    const busiest = [...report.rows].sort((a, b) => b.requests - a.requests).slice(0, MAX_TEXT_ROWS);
    lines.push('', report.rows.length > busiest.length ? `Busiest ${busiest.length} of ${report.rows.length} consumer × dataset rows:` : 'By consumer and dataset:');
    lines.push(
      ...table(
        ['consumer', 'dataset', 'requests', 'sent', 'served', 'refused', 'last seen'],
        busiest.map((r) => [clip(r.consumer, 40), clip(r.dataset, 30), n(r.requests), formatBytes(r.bytesSent), n(r.successes), n(r.requests - r.successes), time(r.lastSeen)]),
        new Set([2, 3, 4, 5]),
      ).map((l) => `  ${l}`),
    );
  }
  if (report.topErrors.length > 0) {
    lines.push('', 'Top errors:');
    for (const e of report.topErrors) lines.push(`  ${n(e.requests).padStart(7)}  ${clip(describeReason(e), 110)}`);
  }
  if (report.statuses.length > 0) lines.push('', `Statuses: ${report.statuses.map((s) => `${s.status} ×${n(s.requests)}`).join(', ')}`);

  const { files, outsideWindow, refusalsWithoutAppLine } = report.inputs;
  const malformed = files.filter((f) => f.malformed > 0);
  const notes: string[] = [];
  for (const f of malformed) notes.push(`${f.file}: ${n(f.malformed)} malformed line(s) skipped (line ${f.malformedLines.join(', ')}${f.malformed > f.malformedLines.length ? ', …' : ''})`);
  if (outsideWindow > 0) notes.push(`${n(outsideWindow)} nginx line(s) outside the window`);
  if (refusalsWithoutAppLine > 0) notes.push(`${n(refusalsWithoutAppLine)} refusal(s) by the app without its log line: give its log with --app-log for the reason`);
  if (notes.length > 0) lines.push('', 'Notes:', ...notes.map((note) => `  ${note}`));
  return `${lines.join('\n')}\n`;
}
