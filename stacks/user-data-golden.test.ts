/**
 * The example environment's user data as a golden file, so that a change to the
 * template, the bootstrap or a static value shows up as a reviewable diff (and is
 * known to replace the instance). Regenerate: UPDATE_GOLDEN=1 npx jest golden-user-data
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTempDirs, synthStack } from '../testing/synth';

const GOLDEN = path.join(__dirname, 'golden', 'user-data.example.yaml');

afterAll(removeTempDirs);

it('the example user data matches stacks/golden/user-data.example.yaml', () => {
  const { stack } = synthStack();
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, stack.userData);
  expect(stack.userData).toBe(fs.readFileSync(GOLDEN, 'utf8'));
});
