/**
 * Publishing a release, its status and a rollback, against any ReleaseStore.
 *
 * Write order (the host can only ever see a complete release):
 *   1. every object the store lacks, objects/<sha256> (a resumed publish skips those
 *      already there: same key, same bytes);
 *   2. the release manifest, releases/<id>.json;
 *   3. LAST the pointer, current.json, naming the manifest and its SHA-256.
 */
import { createHash } from 'node:crypto';
import {
  objectKey,
  parseHostReleaseStatus,
  parseReleaseManifest,
  parseReleasePointer,
  RELEASE_FORMAT,
  RELEASE_LAYOUT,
  releaseJson,
  releaseKey,
  type HostReleaseStatus,
  type ReleaseFile,
  type ReleaseManifest,
  type ReleasePointer,
} from '../../contract/release-manifest';
import type { LocalFile, LocalRelease } from './local-files';
import { diffRelease, isEmptyDiff, mergeWithLive, releaseId, type ReleaseDiff } from './plan';
import type { PutObserver, ReleaseStore } from './release-store';

export interface LiveRelease {
  readonly pointer: ReleasePointer;
  readonly manifest: ReleaseManifest;
}

/** The live release (pointer and manifest), or undefined before the first publish. */
export async function readLiveRelease(store: ReleaseStore): Promise<LiveRelease | undefined> {
  const pointerText = await store.getText(RELEASE_LAYOUT.pointerKey);
  if (pointerText === undefined) return undefined;
  const pointer = parseReleasePointer(pointerText, `${store.description}/${RELEASE_LAYOUT.pointerKey}`);
  return { pointer, manifest: await readManifest(store, pointer.release) };
}

export async function readManifest(store: ReleaseStore, id: string): Promise<ReleaseManifest> {
  const key = releaseKey(id);
  const text = await store.getText(key);
  if (text === undefined) throw new Error(`${store.description}/${key} is missing`);
  return parseReleaseManifest(text, `${store.description}/${key}`);
}

export interface PublishOptions {
  readonly store: ReleaseStore;
  readonly local: LocalRelease;
  /** Keep the live release's files that `local` does not name. */
  readonly merge?: boolean;
  readonly dryRun?: boolean;
  /** @default new Date() */
  readonly now?: Date;
  /** Called before each upload; returns a pass-through for its bytes (a progress bar). */
  readonly onUpload?: (file: LocalFile) => PutObserver | undefined;
  /** Called after each upload. */
  readonly onUploaded?: (file: LocalFile) => void;
}

export interface PublishResult {
  readonly diff: ReleaseDiff;
  /** The release written (or that would be); undefined when nothing changed. */
  readonly release?: ReleaseManifest;
  readonly previous?: string;
  /** Files whose objects were (or would be) uploaded, and those the store already had. */
  readonly uploaded: readonly LocalFile[];
  readonly present: readonly LocalFile[];
  readonly dryRun: boolean;
}

export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const { store, local } = options;
  const dryRun = options.dryRun ?? false;
  const live = await readLiveRelease(store);
  const all = options.merge ? mergeWithLive(live?.manifest, local.files) : [...local.files];
  const diff = diffRelease(live?.manifest.files ?? [], all);
  if (live && isEmptyDiff(diff)) return { diff, uploaded: [], present: [...local.files], dryRun, previous: live.pointer.release };

  // One upload per distinct content (two names with the same bytes share an object).
  const uploaded: LocalFile[] = [];
  const present: LocalFile[] = [];
  const seen = new Set<string>();
  for (const file of local.files) {
    if (seen.has(file.sha256)) continue;
    seen.add(file.sha256);
    const there = await store.head(objectKey(file.sha256));
    if (there && there.size === file.size) present.push(file);
    else uploaded.push(file);
  }
  const now = options.now ?? new Date();
  const files: ReleaseFile[] = all.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
  const policy = options.merge && !local.policy ? live?.manifest.policy : local.policy;
  const release: ReleaseManifest = {
    format: RELEASE_FORMAT,
    id: releaseId(files, now),
    createdAt: now.toISOString(),
    files,
    ...(policy ? { policy } : {}),
  };
  const result = { diff, release, uploaded, present, dryRun, ...(live ? { previous: live.pointer.release } : {}) };
  if (dryRun) return result;

  for (const file of uploaded) {
    await store.putFile(objectKey(file.sha256), file.path, file.size, options.onUpload?.(file));
    options.onUploaded?.(file);
  }
  // A merge names objects of the live release: they must still be there.
  for (const file of files) {
    if (!seen.has(file.sha256) && !(await store.head(objectKey(file.sha256)))) {
      throw new Error(`${store.description}/${objectKey(file.sha256)} (${file.name}, kept from the live release) is missing; publish the whole folder instead`);
    }
  }
  await writeRelease(store, release, live?.pointer.release, now);
  return result;
}

/** The manifest, then the pointer to it. */
async function writeRelease(store: ReleaseStore, release: ReleaseManifest, previous: string | undefined, now: Date): Promise<void> {
  const text = releaseJson(release);
  await store.putText(releaseKey(release.id), text, 'application/json');
  await writePointer(store, release.id, createHash('sha256').update(text).digest('hex'), previous, now);
}

async function writePointer(store: ReleaseStore, id: string, manifestSha256: string, previous: string | undefined, now: Date): Promise<void> {
  const pointer: ReleasePointer = {
    format: RELEASE_FORMAT,
    release: id,
    manifestKey: releaseKey(id),
    manifestSha256,
    publishedAt: now.toISOString(),
    ...(previous ? { previous } : {}),
  };
  await store.putText(RELEASE_LAYOUT.pointerKey, releaseJson(pointer), 'application/json');
}

export interface RollbackResult {
  readonly from: string;
  readonly to: string;
}

/**
 * Points back to the release the live one replaced (or to `to`): its manifest and every
 * object it names must still be in the store. The new pointer's `previous` is the release
 * rolled back from, so a second rollback undoes the first.
 */
export async function rollbackRelease(store: ReleaseStore, to?: string, now = new Date()): Promise<RollbackResult> {
  const live = await readLiveRelease(store);
  if (!live) throw new Error(`${store.description} has no live release (nothing published yet)`);
  const target = to ?? live.pointer.previous;
  if (!target) throw new Error(`the live release ${live.pointer.release} names no previous release; name one: rollback --to <id>`);
  if (target === live.pointer.release) throw new Error(`${target} is already live`);
  const text = await store.getText(releaseKey(target));
  if (text === undefined) throw new Error(`${store.description}/${releaseKey(target)} is missing: cannot roll back to ${target}`);
  const manifest = parseReleaseManifest(text, `${store.description}/${releaseKey(target)}`);
  for (const file of manifest.files) {
    if (!(await store.head(objectKey(file.sha256)))) throw new Error(`${store.description}/${objectKey(file.sha256)} (${file.name} of ${target}) is missing: cannot roll back`);
  }
  await writePointer(store, target, createHash('sha256').update(text).digest('hex'), live.pointer.release, now);
  return { from: live.pointer.release, to: target };
}

export interface ReleaseStatus {
  readonly live?: LiveRelease;
  readonly host?: HostReleaseStatus;
}

export async function releaseStatus(store: ReleaseStore): Promise<ReleaseStatus> {
  const live = await readLiveRelease(store);
  const hostText = await store.getText(RELEASE_LAYOUT.hostStatusKey);
  const host = hostText === undefined ? undefined : parseHostReleaseStatus(hostText, `${store.description}/${RELEASE_LAYOUT.hostStatusKey}`);
  return { ...(live ? { live } : {}), ...(host ? { host } : {}) };
}
