/**
 * The project root, found from this module's own location so that it is the same
 * whether the code runs from TypeScript (ts-jest, ts-node) or from dist/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findProjectRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'cdktf.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root (cdktf.json) above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const ENVIRONMENTS_DIR = path.join(PROJECT_ROOT, 'config', 'environments');
export const DEFAULT_BUNDLE_DIR = path.join(PROJECT_ROOT, 'dist', 'host-bundle');
