/**
 * The one strict `{{name}}` template renderer: nginx sites, systemd units and the
 * cloud-init user data. A placeholder syntax that neither nginx, shell, YAML nor
 * Terraform uses, so nginx's `$host` or a script's `${VAR}` are never touched.
 *
 * Rendering fails, naming every problem, on a value name that is not
 * lower_snake_case, a placeholder without a value, a value without a placeholder,
 * a malformed leftover `{{`/`}}` (`{{ x }}`, `{{X}}`), or, unless turned off, a value
 * that could inject configuration (see `SAFE_VALUE`). Values are inserted in one
 * pass and never re-scanned.
 *
 * The host runs this very code (host/render/host-render.ts, shipped in the bundle);
 * `render-template.test.ts` runs one table of cases against it and against the
 * shipped program.
 */
import { readFileSync } from 'node:fs';

export type TemplateValues = Readonly<Record<string, string>>;

export interface RenderOptions {
  /** Names the template in error messages. @default 'template' */
  readonly source?: string;
  /**
   * Every value must match `SAFE_VALUE`. Turn off only for values that are not
   * configuration tokens and are checked elsewhere (the user data's embedded script).
   * @default true
   */
  readonly safeValues?: boolean;
  /**
   * A placeholder alone on its line is a block: each line of a multi-line value is
   * indented like the placeholder, which is how a script goes into a YAML `|` block.
   * @default false
   */
  readonly blocks?: boolean;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{([a-z][a-z0-9_]*)\}\}/g;
const BLOCK_LINE = /^([ \t]*)\{\{([a-z][a-z0-9_]*)\}\}[ \t]*$/;
const LEFTOVER = /\{\{.{0,40}|\}\}/;
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

/** Renders `template`, or throws a TemplateError listing every problem found. */
export function renderTemplate(template: string, values: TemplateValues, options: RenderOptions = {}): string {
  const { source = 'template', safeValues = true, blocks = false } = options;
  const problems = templateProblems(template, values, safeValues);
  if (problems.length > 0) throw new TemplateError(`${source}: ${problems.join('; ')}`);

  const inline = (line: string): string => line.replace(PLACEHOLDER, (_match, name: string) => values[name]);
  if (!blocks) return inline(template);
  return template
    .split('\n')
    .map((line) => {
      const block = BLOCK_LINE.exec(line);
      if (!block) return inline(line);
      const indent = block[1];
      return values[block[2]]
        .replace(/\n$/, '')
        .split('\n')
        .map((valueLine) => (valueLine.length > 0 ? indent + valueLine : valueLine))
        .join('\n');
    })
    .join('\n');
}

/** Reads and renders a template file; errors name the file. */
export function renderTemplateFile(path: string, values: TemplateValues, options: Omit<RenderOptions, 'source'> = {}): string {
  return renderTemplate(readFileSync(path, 'utf8'), values, { ...options, source: path });
}

function templateProblems(template: string, values: TemplateValues, safeValues: boolean): string[] {
  const wanted = placeholdersOf(template);
  const given = Object.keys(values).sort();
  const problems: string[] = [];

  const badNames = given.filter((name) => !NAME.test(name));
  if (badNames.length > 0) problems.push(`invalid value name(s) ${badNames.join(', ')}: use lower_snake_case`);
  const missing = wanted.filter((name) => !Object.hasOwn(values, name));
  if (missing.length > 0) problems.push(`no value for placeholder(s) ${missing.map((name) => `{{${name}}}`).join(', ')}`);
  const unused = given.filter((name) => NAME.test(name) && !wanted.includes(name));
  if (unused.length > 0) problems.push(`value(s) ${unused.join(', ')} match no placeholder; remove them or fix the template`);
  if (safeValues) {
    for (const name of given.filter((n) => !SAFE_VALUE.test(values[n]))) {
      problems.push(
        `value of ${name} must be a non-empty path, host, address or URL without whitespace, quotes, ; { } $ # or \\ (got ${JSON.stringify(values[name])})`,
      );
    }
  }
  const malformed = template
    .replace(PLACEHOLDER, '')
    .split('\n')
    .flatMap((line, index) => {
      const leftover = LEFTOVER.exec(line);
      return leftover ? [`line ${index + 1} has a malformed placeholder ${JSON.stringify(leftover[0])}`] : [];
    });
  if (malformed.length > 0) problems.push(`${malformed.join(', ')}; write {{lower_snake_case}}`);
  return problems;
}
