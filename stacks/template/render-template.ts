/**
 * Strict `{{name}}` template rendering. A placeholder syntax that neither shell, YAML
 * nor Terraform uses, so `${VAR}` in an embedded script is never touched.
 *
 * - every placeholder needs a value (missing → error);
 * - every value must be used (unused → error: a typo in the template or the caller);
 * - anything else that looks like a placeholder (`{{ x }}`, `{{X}}`, a lone `{{`) is a
 *   leftover → error;
 * - a placeholder alone on its line is a block: each line of a multi-line value is
 *   indented like the placeholder, which is how a script goes into a YAML `|` block.
 * Values are inserted in one pass and never re-scanned.
 */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const PLACEHOLDER = /\{\{([a-z][a-z0-9_]*)\}\}/g;

export function renderTemplate(template: string, values: Readonly<Record<string, string>>, templateName = 'template'): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (Object.prototype.hasOwnProperty.call(values, match[1])) used.add(match[1]);
    else missing.add(match[1]);
  }
  const leftovers = template.replace(PLACEHOLDER, '').match(/\{\{[^\n]{0,40}|\}\}/g);
  const problems: string[] = [];
  if (missing.size > 0) problems.push(`no value for placeholder(s) ${[...missing].map((m) => `{{${m}}}`).join(', ')}`);
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) problems.push(`value(s) given but not used: ${unused.join(', ')}`);
  if (leftovers) problems.push(`malformed placeholder(s) ${leftovers.map((l) => JSON.stringify(l)).join(', ')}; use {{lower_snake_case}}`);
  if (problems.length > 0) throw new TemplateError(`${templateName}: ${problems.join('; ')}`);

  return template
    .split('\n')
    .map((line) => {
      const block = /^([ \t]*)\{\{([a-z][a-z0-9_]*)\}\}[ \t]*$/.exec(line);
      if (block) {
        const indent = block[1];
        return values[block[2]]
          .replace(/\n$/, '')
          .split('\n')
          .map((l) => (l.length > 0 ? indent + l : l))
          .join('\n');
      }
      return line.replace(PLACEHOLDER, (_m, key: string) => values[key]);
    })
    .join('\n');
}
