import { niceCeiling, renderHourlyChart } from './render-chart';

const hours = (counts: [number, number][]) => counts.map(([requests, refusals], i) => ({ hour: new Date(Date.UTC(2026, 0, 22, i)).toISOString(), requests, refusals }));

describe('the requests-per-hour chart', () => {
  it('one bar group per hour, each with a tooltip naming the hour and its counts', () => {
    const svg = renderHourlyChart(hours([[10, 2], [0, 0], [5, 5]])).markup;
    expect(svg.match(/<g>/g)).toHaveLength(3);
    expect(svg).toContain('<title>2026-01-22 00:00 UTC: 10 requests, 2 refused</title>');
    expect(svg).toContain('<title>2026-01-22 02:00 UTC: 5 requests, 5 refused</title>');
  });

  it('bar heights are to scale: refused at the baseline, served stacked on top up to all requests', () => {
    const svg = renderHourlyChart(hours([[10, 2]])).markup;
    const rect = (cls: string) => {
      const m = new RegExp(`<rect class="${cls}" x="[\\d.]+" y="([\\d.]+)" width="[\\d.]+" height="([\\d.]+)"/>`).exec(svg)!;
      return { y: Number(m[1]), height: Number(m[2]) };
    };
    const served = rect('served');
    const refused = rect('refused');
    expect(served.height / refused.height).toBeCloseTo(4, 1);
    expect(served.y + served.height).toBeCloseTo(refused.y, 1);
  });

  it('a round top for the axis', () => {
    expect([0, 1, 7, 10, 11, 230, 999].map(niceCeiling)).toEqual([1, 1, 10, 10, 20, 500, 1000]);
  });

  it('self-contained: no script, no link, no external reference', () => {
    const svg = renderHourlyChart(hours(Array.from({ length: 24 }, (_, i) => [i, 0] as [number, number]))).markup;
    expect(svg).not.toMatch(/<script|href=|src=|url\(/i);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });

  it('labels the axis with hours, and with the date where a new day starts', () => {
    const twoDays = Array.from({ length: 48 }, (_, i) => ({ hour: new Date(Date.UTC(2026, 0, 22, i)).toISOString(), requests: 1, refusals: 0 }));
    const svg = renderHourlyChart(twoDays).markup;
    expect(svg).toContain('>01-23</text>');
    expect(svg).toContain('>04:00</text>');
  });

  it('no hours: a sentence instead of an empty chart', () => {
    expect(renderHourlyChart([]).markup).toBe('<p class="empty">No requests in this window.</p>');
  });
});
