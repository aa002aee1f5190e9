import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root, whether running from source (ts-jest) or from `dist/`. */
export function repoRoot(): string {
  for (const candidate of [resolve(__dirname, '..', '..'), resolve(__dirname, '..', '..', '..')]) {
    if (existsSync(resolve(candidate, 'nginx', 'templates'))) return candidate;
  }
  throw new Error(`repository root not found above ${__dirname}`);
}

/** `testing/replica/` in the source tree (templates are not compiled). */
export function templateDir(): string {
  return resolve(repoRoot(), 'testing', 'replica');
}
