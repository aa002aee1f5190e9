import { buildAccessReport, type AccessReport } from './access-report';
import { renderHtml } from './render-html';
import { parsed } from './test-support/parsed';
import { HOSTILE_PATH, HOSTILE_SUBJECT, HOSTILE_USER_AGENT, LONG_USER_AGENT, sampleDay } from './test-support/sample-day';

const NOW = Date.parse('2026-01-23T06:00:00Z');
const ELEMENTS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'span', 'strong', 'br', 'code', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'svg', 'g', 'rect', 'line', 'text']);
const ATTRIBUTES = new Set(['lang', 'charset', 'http-equiv', 'content', 'name', 'class', 'xmlns', 'viewBox', 'role', 'aria-label', 'x', 'y', 'x1', 'x2', 'y1', 'y2', 'width', 'height', 'text-anchor']);

function report(): AccessReport {
  const { nginx, app } = parsed(sampleDay());
  return buildAccessReport(nginx, { now: NOW, since: Date.parse('2026-01-22T00:00:00Z'), until: Date.parse('2026-01-23T00:00:00Z'), app });
}

/**
 * Every tag in the page is one this renderer writes, with attributes it writes: as values
 * are escaped, each "<" in the page starts a real tag, so a value that injected markup shows here.
 */
function unexpectedMarkup(page: string): string[] {
  const problems: string[] = [];
  for (const tag of page.match(/<[^>]*>?/g) ?? []) {
    if (tag === '<!DOCTYPE html>') continue;
    const m = /^<\/?([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z][A-Za-z0-9-]*="[^"<>]*")*)\s*\/?>$/.exec(tag);
    if (!m || !ELEMENTS.has(m[1]!)) {
      problems.push(tag.slice(0, 80));
      continue;
    }
    for (const [, name] of m[2]!.matchAll(/([A-Za-z][A-Za-z0-9-]*)="/g)) if (!ATTRIBUTES.has(name!)) problems.push(`${name} in ${tag.slice(0, 60)}`);
  }
  return problems;
}

/** The report with `payload` appended to every string in it (every field a log can reach). */
function poisoned(model: AccessReport, payload: string): AccessReport {
  const walk = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') return key === 'schema' || key === 'consumerKind' || key === 'datasetKind' || key === 'kind' ? value : value + payload;
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  return walk(model) as AccessReport;
}

describe('the HTML report', () => {
  it('is one self-contained page: no script, no external asset, scripts forbidden by its own CSP', () => {
    const page = renderHtml(report());
    expect(page).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;;`);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|<object|<embed/i);
    expect(unexpectedMarkup(page)).toEqual([]);
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    expect(style).not.toMatch(/@import|url\(/);
  });

  it("shows the day's consumers, datasets, reasons, statuses and user agents", () => {
    const page = renderHtml(report());
    for (const text of ['consumer-a', 'carbon-intensity', '/datasets', '403 insufficient_scope: this client may not read this resource', '<td>429</td>', 'consumer-client/1.4', 'Requests per hour', '<svg']) {
      expect(page).toContain(text);
    }
  });

  it('escapes hostile values from the logs: a user agent, a path and a certificate subject that are markup', () => {
    const page = renderHtml(report());
    expect(unexpectedMarkup(page)).toEqual([]);
    expect(page).not.toContain(HOSTILE_SUBJECT);
    expect(page).toContain('CN=&lt;/svg&gt;&lt;script&gt;alert(&#39;cn&#39;)&lt;/script&gt;,O=&quot;Quoted, Inc&quot;,C=GB');
    expect(page).toContain('&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(page).not.toContain(HOSTILE_USER_AGENT);
    expect(page.match(/<\/svg>/g)).toHaveLength(1);
  });

  it.each([
    ['a script element', '<script>alert(1)</script>'],
    ['a closing svg and table', '</svg></td></tr></table><b>'],
    ['quotes that would end an attribute', `" onmouseover="alert(1)" x='`],
    ['a comment and CDATA', '<!-- x --><![CDATA[ y ]]>'],
    ['a path of the hostile kind', HOSTILE_PATH],
  ])('%s in every field of the model injects no markup', (_what, payload) => {
    const page = renderHtml(poisoned(report(), payload));
    expect(unexpectedMarkup(page)).toEqual([]);
  });

  it('a very long value reaches the page cut short', () => {
    const page = renderHtml(report());
    expect(page).not.toContain(LONG_USER_AGENT.slice(0, 1000));
    expect(page).toContain(`${LONG_USER_AGENT.slice(0, 200)}…`);
    expect(page.length).toBeLessThan(60_000);
  });

  it('control characters arrive written out, never raw', () => {
    const page = renderHtml(report());
    expect(page).toContain('\\x1b[31mred\\x1b[0m \\u{202e}evil\\x07');
    expect(page).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202e]/);
  });
});
