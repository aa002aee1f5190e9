/**
 * Strict `{{name}}` template renderer for host files (nginx sites, units).
 *
 * Only declared placeholders are replaced, so nginx's own `$host` or
 * `$ssl_client_verify` are never touched. Rendering fails, naming the problem,
 * on a placeholder without a value, a value without a placeholder, a malformed
 * leftover `{{`/`}}`, or a value that could inject configuration.
 *
 * `host/scripts/lib/render.sh` implements the same rules in bash for the host;
 * `render-template.test.ts` runs one table of cases against both.
 */
import { readFileSync } from 'node:fs';

export type TemplateValues = Readonly<Record<string, string>>;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{([a-z][a-z0-9_]*)\}\}/g;
const NAME = /^[a-z][a-z0-9_]*$/;
/**
 * A path, host name, address or URL. No whitespace, quotes, `;`, `{`, `}`,
 * `$`, `#` or backslash: any of those would let a value add directives.
 */
export const SAFE_VALUE = /^[A-Za-z0-9._~:/@%+=,*[\]-]+$/;

/** The distinct placeholder names in a template, sorted. */
export function placeholdersOf(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) names.add(match[1]);
  return [...names].sort();
}

/** Renders `template`; `source` names the template in error messages. */
export function renderTemplate(template: string, values: TemplateValues, source = 'template'): string {
  const wanted = placeholdersOf(template);
  const given = Object.keys(values).sort();

  const badNames = given.filter((name) => !NAME.test(name));
  if (badNames.length > 0) {
    throw new TemplateError(`${source}: invalid value name(s) ${badNames.join(', ')}: use lower_snake_case`);
  }
  const missing = wanted.filter((name) => !(name in values));
  if (missing.length > 0) {
    throw new TemplateError(`${source}: no value for placeholder(s) ${missing.map((n) => `{{${n}}}`).join(', ')}`);
  }
  const unused = given.filter((name) => !wanted.includes(name));
  if (unused.length > 0) {
    throw new TemplateError(`${source}: value(s) ${unused.join(', ')} match no placeholder; remove them or fix the template`);
  }
  for (const name of given) {
    if (!SAFE_VALUE.test(values[name])) {
      throw new TemplateError(
        `${source}: value of ${name} must be a non-empty path, host, address or URL without whitespace, quotes, ; { } $ # or \\ (got ${JSON.stringify(values[name])})`,
      );
    }
  }
  const leftover = template.replace(PLACEHOLDER, '').split('\n').findIndex((line) => line.includes('{{') || line.includes('}}'));
  if (leftover >= 0) {
    throw new TemplateError(`${source}: line ${leftover + 1} has a malformed placeholder; write {{lower_snake_case}}`);
  }
  return template.replace(PLACEHOLDER, (_match, name: string) => values[name]);
}

/** Reads and renders a template file. */
export function renderTemplateFile(path: string, values: TemplateValues): string {
  return renderTemplate(readFileSync(path, 'utf8'), values, path);
}
