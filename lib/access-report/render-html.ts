/**
 * The report model → one self-contained HTML page: inline CSS, an inline SVG chart, no
 * script and no external asset. Every value goes through the `html` tag (escaped), and the
 * page forbids scripts and remote loads in its own Content-Security-Policy, so even a value
 * that slipped through could not run or phone home.
 */
import { formatBytes } from '../format-bytes';
import type { AccessReport, ReasonCount, ReportRow } from './access-report';
import { html, trusted, type Html } from './html';
import { describeReason } from './refusal-reason';
import { renderHourlyChart } from './render-chart';

/** Rows shown; the rest are in `--json` (a page of thousands of rows helps nobody). */
export const MAX_HTML_ROWS = 1000;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = trusted(`
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f23; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin-top: .5rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td { overflow-wrap: anywhere; max-width: 40rem; }
.muted { color: #57606a; } .kind { font-size: .8em; color: #57606a; }
ul.reasons { margin: 0; padding-left: 1rem; }
.totals span { display: inline-block; margin-right: 1.5rem; }
svg.chart { width: 100%; max-width: 960px; height: auto; font-size: 11px; }
svg.chart .served { fill: #2da44e; } svg.chart .refused { fill: #cf222e; } svg.chart .grid { stroke: #d0d7de; }
`);

const number = (n: number) => n.toLocaleString('en-GB');
const time = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;

function reasonItem(reason: ReasonCount): Html {
  return html`<li>${number(reason.requests)} × ${describeReason(reason)}</li>`;
}

function row(r: ReportRow): Html {
  const kind = r.consumerKind === 'client' ? 'client id' : r.consumerKind === 'certificate' ? 'certificate subject' : 'no verified certificate';
  const refusals = r.refusals.length === 0 ? html`<span class="muted">none</span>` : html`<ul class="reasons">${r.refusals.map(reasonItem)}</ul>`;
  return html`<tr><td>${r.consumer}<br><span class="kind">${kind}</span></td><td>${r.dataset}</td><td class="n">${number(r.requests)}</td><td class="n">${formatBytes(r.bytesSent)}</td><td class="n">${number(r.successes)}</td><td class="n">${number(r.reusedDecisions)}</td><td>${refusals}</td><td>${time(r.firstSeen)}</td><td>${time(r.lastSeen)}</td></tr>`;
}

function windowText(report: AccessReport): string {
  const { since, until, firstRequest, lastRequest } = report.window;
  const asked = since || until ? `${since ? time(since) : 'the start of the logs'} to ${until ? time(until) : 'the end of the logs'} (UTC)` : 'everything in the logs';
  return firstRequest && lastRequest ? `${asked}; requests from ${time(firstRequest)} to ${time(lastRequest)}` : `${asked}; no requests`;
}

function inputs(report: AccessReport): Html {
  const { files, outsideWindow, refusalsExplainedByApp, refusalsWithoutAppLine } = report.inputs;
  const items = files.map((f) => {
    const bad = f.malformed > 0 ? html`, <strong>${number(f.malformed)} malformed skipped</strong> (line ${f.malformedLines.join(', ')}${f.malformed > f.malformedLines.length ? ', …' : ''})` : html``;
    return html`<li>${f.kind === 'nginx' ? 'nginx access log' : 'app log'} ${f.file}: ${number(f.lines)} lines${bad}</li>`;
  });
  return html`<ul>${items}<li>${number(outsideWindow)} nginx lines outside the window</li><li>${number(refusalsExplainedByApp)} refusals explained by the app's own line; ${number(refusalsWithoutAppLine)} answered by the app without one found (give its log with --app-log)</li></ul>`;
}

export function renderHtml(report: AccessReport): string {
  const t = report.totals;
  const shown = report.rows.slice(0, MAX_HTML_ROWS);
  const more = report.rows.length > shown.length ? html`<p class="muted">${number(report.rows.length - shown.length)} more rows in the JSON form (--json).</p>` : html``;
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Provider access report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Provider access report</h1>
<p>${windowText(report)}. Generated ${time(report.generatedAt)} UTC.</p>
<p class="totals"><span><strong>${number(t.requests)}</strong> requests</span><span><strong>${formatBytes(t.bytesSent)}</strong> sent</span><span><strong>${number(t.successes)}</strong> served</span><span><strong>${number(t.refusals)}</strong> refused</span><span><strong>${number(t.reusedDecisions)}</strong> on a reused decision</span><span><strong>${number(t.consumers)}</strong> consumers</span><span><strong>${number(t.datasets)}</strong> datasets</span></p>

<h2>Requests per hour</h2>
${renderHourlyChart(report.hourly)}

<h2>By consumer and dataset</h2>
<table>
<thead><tr><th>Consumer</th><th>Dataset</th><th class="n">Requests</th><th class="n">Sent</th><th class="n">Served</th><th class="n">Reused decision</th><th>Refused (status code: reason)</th><th>First seen (UTC)</th><th>Last seen (UTC)</th></tr></thead>
<tbody>${shown.map(row)}</tbody>
</table>
${more}
<h2>Top errors</h2>
<table>
<thead><tr><th class="n">Requests</th><th>Status</th><th>Code</th><th>Reason</th><th>Example request</th></tr></thead>
<tbody>${report.topErrors.map((e) => html`<tr><td class="n">${number(e.requests)}</td><td>${e.status}</td><td>${e.code ?? '—'}</td><td>${e.description ?? '—'}</td><td><code>${e.example ?? ''}</code></td></tr>`)}</tbody>
</table>

<h2>Status codes</h2>
<table>
<thead><tr><th>Status</th><th class="n">Requests</th><th class="n">Share</th></tr></thead>
<tbody>${report.statuses.map((s) => html`<tr><td>${s.status}</td><td class="n">${number(s.requests)}</td><td class="n">${t.requests ? `${((100 * s.requests) / t.requests).toFixed(1)} %` : ''}</td></tr>`)}</tbody>
</table>

<h2>Top user agents</h2>
<table>
<thead><tr><th>User agent</th><th class="n">Requests</th></tr></thead>
<tbody>${report.userAgents.map((u) => html`<tr><td>${u.userAgent}</td><td class="n">${number(u.requests)}</td></tr>`)}</tbody>
</table>

<h2>Inputs</h2>
${inputs(report)}
<p class="muted">Consumers are named by OAuth client id when one is known, else by their verified certificate's subject; "anonymous" had no verified certificate. Query-string values and anything that looks like a token are redacted. Schema ${report.schema}.</p>
</body>
</html>
`;
  return page.markup;
}
