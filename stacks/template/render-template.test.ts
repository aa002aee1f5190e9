import { renderTemplate, TemplateError } from './render-template';

describe('renderTemplate', () => {
  it('replaces inline placeholders and leaves shell ${VAR} alone', () => {
    expect(renderTemplate('region={{region}} home=${HOME}', { region: 'eu-west-2' })).toBe('region=eu-west-2 home=${HOME}');
  });

  it('indents a multi-line value like the placeholder standing alone on its line', () => {
    const out = renderTemplate('content: |\n    {{script}}\nnext: 1\n', { script: '#!/bin/sh\n\necho "${A}"\n' });
    expect(out).toBe('content: |\n    #!/bin/sh\n\n    echo "${A}"\nnext: 1\n');
  });

  it('fails on a placeholder without a value, naming it', () => {
    expect(() => renderTemplate('a={{a}} b={{b}}', { a: '1' }, 'cloud-init.yaml')).toThrow(new TemplateError('cloud-init.yaml: no value for placeholder(s) {{b}}'));
  });

  it('fails on a value the template does not use', () => {
    expect(() => renderTemplate('a={{a}}', { a: '1', extra: '2' })).toThrow(/value\(s\) given but not used: extra/);
  });

  it('fails on leftover, malformed placeholders', () => {
    expect(() => renderTemplate('a={{a}} b={{ b }}', { a: '1' })).toThrow(/malformed placeholder\(s\) "\{\{ b \}\}"/);
    expect(() => renderTemplate('a={{A}}', {})).toThrow(/malformed/);
  });

  it('does not re-scan inserted values', () => {
    expect(renderTemplate('x={{a}}', { a: '{{b}}' })).toBe('x={{b}}');
  });
});
