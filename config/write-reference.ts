/**
 * `npm run docs:config`: regenerates the configuration reference in docs/stack.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../lib/project-paths';
import { updateReferenceBlock } from './reference';

if (require.main === module) {
  const file = path.join(PROJECT_ROOT, 'docs', 'stack.md');
  fs.writeFileSync(file, updateReferenceBlock(fs.readFileSync(file, 'utf8')));
  process.stdout.write(`updated the configuration reference in ${path.relative(process.cwd(), file)}\n`);
}
