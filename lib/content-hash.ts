/**
 * Content hashes that decide what a deploy changes. Unlike cdktf's own asset hash
 * (file contents only), these include each file's relative path, so renaming a
 * dataset is a change too. Deterministic: sorted paths, no timestamps.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Length of the hex hashes used in S3 keys and release folder names. */
export const HASH_LENGTH = 32;

/** Regular files under `dir`, as sorted POSIX relative paths. Dot-files are skipped. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** Hash of the named files (relative to `root`): paths and contents. */
export function hashFiles(root: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const rel of [...files].sort()) {
    const content = fs.readFileSync(path.join(root, rel));
    hash.update(`${rel}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, HASH_LENGTH);
}

/** Hash of every (non-dot) file under `dir`. */
export function hashDirectory(dir: string): string {
  return hashFiles(dir, listFiles(dir));
}

/** Hash of one file's contents. */
export function hashFile(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, HASH_LENGTH);
}
