/**
 * Requests per hour as an inline SVG bar chart: served and refused stacked, one bar per
 * hour (UTC), a tooltip (`<title>`) per bar. No script, no font or style sheet from
 * elsewhere: the report is one file that opens offline and under a strict CSP.
 */
import { html, type Html } from './html';
import type { AccessReport } from './access-report';

const WIDTH = 960;
const HEIGHT = 240;
const MARGIN = { top: 12, right: 12, bottom: 36, left: 52 };
const LABELS = 12;

/** 1, 2, 5 × 10ⁿ at or above `value`: a round top for the axis. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= value)!;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function renderHourlyChart(hourly: AccessReport['hourly']): Html {
  if (hourly.length === 0) return html`<p class="empty">No requests in this window.</p>`;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceCeiling(Math.max(...hourly.map((h) => h.requests)));
  const slot = plotWidth / hourly.length;
  const barWidth = Math.max(slot * 0.8, 0.5);
  const y = (count: number) => MARGIN.top + plotHeight - (count / top) * plotHeight;
  const every = Math.max(1, Math.ceil(hourly.length / LABELS));
  const multiDay = hourly[0]!.hour.slice(0, 10) !== hourly[hourly.length - 1]!.hour.slice(0, 10);

  // Refused at the baseline, served stacked on top: the bar's height is all requests.
  const bars = hourly.map((h, i) => {
    const x = round(MARGIN.left + i * slot + (slot - barWidth) / 2);
    const title = `${h.hour.slice(0, 10)} ${h.hour.slice(11, 16)} UTC: ${h.requests} requests, ${h.refusals} refused`;
    const refused = html`<rect class="refused" x="${x}" y="${round(y(h.refusals))}" width="${round(barWidth)}" height="${round(y(0) - y(h.refusals))}"/>`;
    const served = html`<rect class="served" x="${x}" y="${round(y(h.requests))}" width="${round(barWidth)}" height="${round(y(h.refusals) - y(h.requests))}"/>`;
    return html`<g><title>${title}</title>${served}${refused}</g>`;
  });
  const labels = hourly.map((h, i) => {
    if (i % every !== 0) return undefined;
    const x = round(MARGIN.left + i * slot + slot / 2);
    const text = multiDay && h.hour.slice(11, 13) === '00' ? h.hour.slice(5, 10) : `${h.hour.slice(11, 13)}:00`;
    return html`<text x="${x}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${text}</text>`;
  });
  const grid = [0, 0.5, 1].map((f) => {
    const value = Math.round(top * f);
    return html`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${round(y(value))}" y2="${round(y(value))}"/><text x="${MARGIN.left - 6}" y="${round(y(value) + 4)}" text-anchor="end">${value}</text>`;
  });
  const label = `Requests per hour (UTC), ${hourly[0]!.hour.slice(0, 13)}:00 to ${hourly[hourly.length - 1]!.hour.slice(0, 13)}:59`;
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${label}">${grid}${bars}${labels}<text x="${MARGIN.left}" y="${HEIGHT - 4}">served</text><rect class="served" x="${MARGIN.left + 44}" y="${HEIGHT - 13}" width="10" height="10"/><text x="${MARGIN.left + 64}" y="${HEIGHT - 4}">refused</text><rect class="refused" x="${MARGIN.left + 114}" y="${HEIGHT - 13}" width="10" height="10"/></svg>`;
}
