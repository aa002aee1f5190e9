import { buildAccessReport } from './access-report';
import { renderText } from './render-text';
import { parsed } from './test-support/parsed';
import { QUERY_TOKEN, sampleDay, sampleDayWithNoise } from './test-support/sample-day';

const NOW = Date.parse('2026-01-23T06:00:00Z');
const SINCE = Date.parse('2026-01-22T00:00:00Z');

describe('the plain-text summary', () => {
  const { nginx, app } = parsed(sampleDay());
  const text = renderText(buildAccessReport(nginx, { now: NOW, since: SINCE, until: SINCE + 86_400_000, app }));

  it('opens with the window and the totals', () => {
    expect(text.split('\n').slice(0, 2)).toEqual([
      'Access report, 2026-01-22 00:00:00 to 2026-01-23 00:00:00 UTC (requests 2026-01-22 08:00:00 to 2026-01-22 17:03:00)',
      '24 requests, 38.6 KiB sent, 8 served, 16 refused, 2 on a reused decision; 5 consumers, 4 datasets',
    ]);
  });

  it('lists rows busiest first, the top errors and the statuses', () => {
    expect(text).toMatch(/\n {2}consumer {2,}dataset {2,}requests {2,}sent {2,}served {2,}refused {2}last seen\n {2}consumer-a {2,}meters {2,}8 /);
    expect(text).toContain('\nTop errors:\n        4  400 invalid_client: no client certificate was sent\n');
    expect(text).toContain('\nStatuses: 200 ×6, 301 ×1, 304 ×1, 400 ×6, 401 ×3, 403 ×1, 404 ×1, 429 ×3, 444 ×1, 502 ×1\n');
  });

  it('no control character reaches the terminal, and no token', () => {
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).not.toContain(QUERY_TOKEN);
  });

  it('notes what was skipped or could not be explained', () => {
    const noisy = parsed(sampleDayWithNoise());
    const notes = renderText(
      buildAccessReport(noisy.nginx, {
        now: NOW,
        since: SINCE,
        files: [{ file: '/var/log/nginx/access.json.log', kind: 'nginx', lines: 27, malformed: 2, malformedLines: [5, 6] }],
      }),
    );
    expect(notes).toContain('\nNotes:\n  /var/log/nginx/access.json.log: 2 malformed line(s) skipped (line 5, 6)\n  1 nginx line(s) outside the window\n  6 refusal(s) by the app without its log line: give its log with --app-log for the reason\n');
  });

  it('an empty window says so', () => {
    expect(renderText(buildAccessReport([], { now: NOW, since: SINCE }))).toContain('\nNo requests in this window.\n');
  });
});
