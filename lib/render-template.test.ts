import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtHostRenderer } from '../testing/host-renderer';
import { placeholdersOf, renderTemplate, TemplateError } from './render-template';


interface Case {
  readonly name: string;
  readonly template: string;
  readonly values: Record<string, string>;
  /** Expected output, or a fragment of the expected error message. */
  readonly output?: string;
  readonly error?: string;
}

const cases: Case[] = [
  {
    name: 'replaces every occurrence and keeps nginx variables',
    template: 'server_name {{server_name}};\nreturn 301 https://$host{{server_name}}$request_uri;\n',
    values: { server_name: 'provider.example.com' },
    output: 'server_name provider.example.com;\nreturn 301 https://$hostprovider.example.com$request_uri;\n',
  },
  {
    name: 'keeps a template without trailing newline as is',
    template: 'listen {{port}} ssl;',
    values: { port: '[::]:443' },
    output: 'listen [::]:443 ssl;',
  },
  { name: 'fails on a placeholder without a value', template: 'a {{one}} {{two}}\n', values: { one: 'x' }, error: 'no value for placeholder(s) {{two}}' },
  { name: 'fails on a value without a placeholder', template: 'a {{one}}\n', values: { one: 'x', extra: 'y' }, error: 'value(s) extra match no placeholder' },
  { name: 'fails on a malformed leftover placeholder', template: 'a {{one}}\nb {{ two }}\n', values: { one: 'x' }, error: 'line 2 has a malformed placeholder' },
  { name: 'fails on an unbalanced closing brace pair', template: 'a {{one}} }}\n', values: { one: 'x' }, error: 'line 1 has a malformed placeholder' },
  { name: 'fails on a value that would inject a directive', template: 'root {{dir}};\n', values: { dir: '/srv; include /etc/passwd' }, error: 'value of dir must be' },
  { name: 'fails on a value with a brace', template: 'root {{dir}};\n', values: { dir: '/srv/{{x}}' }, error: 'value of dir must be' },
  { name: 'fails on an empty value', template: 'root {{dir}};\n', values: { dir: '' }, error: 'value of dir must be' },
  { name: 'fails on a value name that is not lower_snake_case', template: 'root {{dir}};\n', values: { dir: '/srv', 'Bad-Name': 'x' }, error: 'invalid value name(s) Bad-Name' },
  {
    name: 'replaces inline placeholders and leaves shell ${VAR} alone',
    template: 'region={{region}} home=${HOME}',
    values: { region: 'eu-west-2' },
    output: 'region=eu-west-2 home=${HOME}',
  },
  { name: 'fails on a value the template does not use', template: 'a={{a}}', values: { a: '1', extra: '2' }, error: 'value(s) extra match no placeholder' },
  { name: 'fails on a leftover placeholder with spaces, quoting it', template: 'a={{a}} b={{ b }}', values: { a: '1' }, error: 'line 1 has a malformed placeholder "{{ b }}"' },
  { name: 'fails on an upper-case placeholder', template: 'a={{A}}', values: {}, error: 'malformed' },
];

/** The same table through the program shipped to the host (`host-render template`), built as the bundle builds it. */
function renderOnHost(template: string, values: Record<string, string>): { stdout: string; stderr: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'render-host-'));
  try {
    const file = join(dir, 'site.tmpl');
    writeFileSync(file, template);
    const args = Object.entries(values).map(([name, value]) => `${name}=${value}`);
    const result = spawnSync(process.execPath, [builtHostRenderer(), 'template', file, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    return { stdout: result.stdout, stderr: result.stderr, status: result.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('renderTemplate (TypeScript)', () => {
  it.each(cases)('$name', ({ template, values, output, error }) => {
    if (error !== undefined) {
      expect(() => renderTemplate(template, values)).toThrow(TemplateError);
      expect(() => renderTemplate(template, values)).toThrow(error);
    } else {
      expect(renderTemplate(template, values)).toBe(output);
    }
  });

  it('lists placeholders once each, sorted', () => {
    expect(placeholdersOf('{{b}} {{a}} {{b}} $host {{ c }}')).toEqual(['a', 'b']);
  });

  it('names the template in the error', () => {
    expect(() => renderTemplate('a={{a}} b={{b}}', { a: '1' }, { source: 'cloud-init.yaml' })).toThrow(
      new TemplateError('cloud-init.yaml: no value for placeholder(s) {{b}}'),
    );
  });

  it('lists every problem at once', () => {
    expect(() => renderTemplate('a={{a}}\nb={{ b }}\n', { extra: '1', c: 'x y' })).toThrow(
      new TemplateError(
        'template: no value for placeholder(s) {{a}}; value(s) c, extra match no placeholder; remove them or fix the template; ' +
          'value of c must be a non-empty path, host, address or URL without whitespace, quotes, ; { } $ # or \\ (got "x y"); ' +
          'line 2 has a malformed placeholder "{{ b }}"; write {{lower_snake_case}}',
      ),
    );
  });

  it('does not treat inherited object properties as values', () => {
    expect(() => renderTemplate('{{constructor}}', {})).toThrow('no value for placeholder(s) {{constructor}}');
  });

  describe('with blocks (the user data)', () => {
    const userData = { safeValues: false, blocks: true } as const;

    it('indents a multi-line value like the placeholder standing alone on its line', () => {
      const out = renderTemplate('content: |\n    {{script}}\nnext: 1\n', { script: '#!/bin/sh\n\necho "${A}"\n' }, userData);
      expect(out).toBe('content: |\n    #!/bin/sh\n\n    echo "${A}"\nnext: 1\n');
    });

    it('does not re-scan inserted values', () => {
      expect(renderTemplate('x={{a}}', { a: '{{b}}' }, userData)).toBe('x={{b}}');
    });

    it('still fails on a missing, unused or malformed placeholder', () => {
      expect(() => renderTemplate('  {{a}}\n', {}, userData)).toThrow('no value for placeholder(s) {{a}}');
      expect(() => renderTemplate('  {{a}}\n', { a: 'x', b: 'y' }, userData)).toThrow('value(s) b match no placeholder');
      expect(() => renderTemplate('  {{a}}\n{{ c }}\n', { a: 'x' }, userData)).toThrow('line 2 has a malformed placeholder');
    });
  });

  it('indents nothing without blocks: a lone placeholder is replaced in place', () => {
    expect(renderTemplate('  {{a}}  \n', { a: 'x' })).toBe('  x  \n');
  });
});

describe('host-render template (the renderer shipped to the host)', () => {
  it.each(cases)('$name', ({ template, values, output, error }) => {
    const result = renderOnHost(template, values);
    if (error !== undefined) {
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(error);
      expect(result.stdout).toBe('');
    } else {
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(output);
    }
  });
});
