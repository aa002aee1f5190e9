import { escapeHtml, html, trusted } from './html';

describe('html', () => {
  it('escapes every interpolated string: markup, both quotes, ampersands', () => {
    const value = `</svg><script>alert('x')</script>" onload="y" &amp;`;
    expect(html`<td title="${value}">${value}</td>`.markup).toBe(
      '<td title="&lt;/svg&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onload=&quot;y&quot; &amp;amp;">&lt;/svg&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onload=&quot;y&quot; &amp;amp;</td>',
    );
  });

  it('nests markup without escaping it twice, joins arrays and drops undefined', () => {
    const items = ['a<b', 'c'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}${undefined}</ul>`.markup).toBe('<ul><li>a&lt;b</li><li>c</li></ul>');
  });

  it('numbers as text; a non-finite number as nothing', () => {
    expect(html`${3}|${1.5}|${NaN}`.markup).toBe('3|1.5|');
  });

  it('trusted markup passes as written (for this code only)', () => {
    expect(html`<style>${trusted('a > b {}')}</style>`.markup).toBe('<style>a > b {}</style>');
    expect(escapeHtml('a > b')).toBe('a &gt; b');
  });
});
