/**
 * HTML built so that escaping cannot be forgotten: the `html` tag escapes every
 * interpolated value unless it is already `Html` (the result of another `html` call, or
 * `trusted` markup written in this code). Values from the logs are attacker-controlled
 * (a user agent, a path, a certificate subject), so no renderer concatenates strings
 * into markup by hand.
 */

/** Markup that is safe as it is: made by `html` or `trusted`, never from a log value. */
export class Html {
  constructor(readonly markup: string) {}

  toString(): string {
    return this.markup;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element or a quoted attribute (in HTML and in inline SVG). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Value = Html | string | number | undefined | readonly Value[];

function render(value: Value): string {
  if (value === undefined) return '';
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'number') return escapeHtml(Number.isFinite(value) ? String(value) : '');
  return escapeHtml(value as string);
}

/** A template of markup; each `${value}` is escaped (arrays are joined, undefined is empty). */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Markup written in this code (never a log value): a style sheet, a constant. */
export function trusted(markup: string): Html {
  return new Html(markup);
}
