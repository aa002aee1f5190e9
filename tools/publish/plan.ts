/**
 * The publish planner: what a release would change against the live one (new, changed,
 * removed, unchanged files) and which objects must be uploaded (those the bucket lacks:
 * content-addressed, so an unchanged file, a renamed one or one an interrupted publish
 * already sent is not sent again).
 */
import { createHash } from 'node:crypto';
import type { ReleaseFile, ReleaseManifest } from '../../contract/release-manifest';
import type { LocalFile } from './local-files';

export interface ReleaseDiff {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
}

export function diffRelease(live: readonly ReleaseFile[], next: readonly Pick<ReleaseFile, 'name' | 'sha256'>[]): ReleaseDiff {
  const before = new Map(live.map((file) => [file.name, file.sha256]));
  const after = new Set(next.map((file) => file.name));
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const file of next) {
    const old = before.get(file.name);
    if (old === undefined) added.push(file.name);
    else if (old === file.sha256) unchanged.push(file.name);
    else changed.push(file.name);
  }
  const removed = live.map((file) => file.name).filter((name) => !after.has(name));
  return { added, changed, removed, unchanged };
}

export const isEmptyDiff = (diff: ReleaseDiff): boolean => diff.added.length + diff.changed.length + diff.removed.length === 0;

/** With `merge`, the live release's files the new one does not name are kept. */
export function mergeWithLive(live: ReleaseManifest | undefined, files: readonly LocalFile[]): (LocalFile | ReleaseFile)[] {
  const named = new Set(files.map((file) => file.name));
  const kept = (live?.files ?? []).filter((file) => !named.has(file.name));
  return [...kept, ...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `20260122T101500Z-<12 hex>`: the time, then a hash of the file list (names and hashes). */
export function releaseId(files: readonly Pick<ReleaseFile, 'name' | 'sha256'>[], now: Date): string {
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${file.sha256}  ${file.name}\n`);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${digest.digest('hex').slice(0, 12)}`;
}
