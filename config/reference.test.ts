import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../lib/project-paths';
import { END_MARKER, renderConfigReference, START_MARKER, updateReferenceBlock } from './reference';

describe('configuration reference', () => {
  it('lists every field with its type, default and description', () => {
    const table = renderConfigReference();
    expect(table).toContain('| `instance.type` | string |  | `"t4g.small"` | EC2 instance type.');
    expect(table).toContain('| `admin.sshCidrs` | list of string |  | `[]` |');
    expect(table).toContain('| `acme.email` | string | yes |  |');
    expect(table).toContain('| `app.nodeMajor` | `20` \\| `22` \\| `24` |  | `22` |');
    expect(table).toContain('| `backend.s3.key` | string | yes |  |');
  });

  it('replaces only the block between the markers', () => {
    const doc = `# Title\n\n${START_MARKER}\nold table\n${END_MARKER}\n\nAfter.\n`;
    const updated = updateReferenceBlock(doc);
    expect(updated.startsWith('# Title\n\n')).toBe(true);
    expect(updated.endsWith(`${END_MARKER}\n\nAfter.\n`)).toBe(true);
    expect(updated).not.toContain('old table');
    expect(() => updateReferenceBlock('# no markers\n')).toThrow(/lacks the markers/);
  });

  it('is current in docs/stack.md (run npm run docs:config after a schema change)', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'stack.md'), 'utf8');
    expect(doc).toBe(updateReferenceBlock(doc));
  });
});
