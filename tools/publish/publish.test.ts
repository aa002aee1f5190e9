import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { objectKey, parseReleasePointer, RELEASE_LAYOUT, releaseKey } from '../../contract/release-manifest';
import { FolderStore } from './folder-store';
import { PublishInputError, readLocalRelease } from './local-files';
import { diffRelease, releaseId } from './plan';
import { publishRelease, readLiveRelease, releaseStatus, rollbackRelease } from './publish';
import type { PutObserver, ReleaseStore } from './release-store';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'publish-test-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}

/** Records every write, in order. */
class RecordingStore implements ReleaseStore {
  readonly writes: string[] = [];
  readonly description: string;
  constructor(readonly inner: FolderStore, private readonly failOn?: string) {
    this.description = inner.description;
  }
  head(key: string) {
    return this.inner.head(key);
  }
  getText(key: string) {
    return this.inner.getText(key);
  }
  async putFile(key: string, file: string, size: number, observer?: PutObserver) {
    if (this.failOn && key.endsWith(this.failOn)) throw new Error('connection reset');
    this.writes.push(key);
    return this.inner.putFile(key, file, size, observer);
  }
  async putText(key: string, text: string, contentType: string) {
    this.writes.push(key);
    return this.inner.putText(key, text, contentType);
  }
}

describe('the publish planner', () => {
  it('sorts files into new, changed, removed and unchanged', () => {
    const live = [{ name: 'a.csv', size: 1, sha256: sha('a') }, { name: 'b.csv', size: 1, sha256: sha('b') }, { name: 'c.csv', size: 1, sha256: sha('c') }];
    const next = [{ name: 'a.csv', sha256: sha('a') }, { name: 'b.csv', sha256: sha('B') }, { name: 'd.csv', sha256: sha('d') }];
    expect(diffRelease(live, next)).toEqual({ added: ['d.csv'], changed: ['b.csv'], removed: ['c.csv'], unchanged: ['a.csv'] });
  });

  it('names a release by time and content', () => {
    const files = [{ name: 'a.csv', sha256: sha('a') }];
    const id = releaseId(files, new Date('2026-01-22T10:15:00.123Z'));
    expect(id).toMatch(/^20260122T101500Z-[0-9a-f]{12}$/);
    expect(releaseId([{ name: 'b.csv', sha256: sha('a') }], new Date('2026-01-22T10:15:00Z'))).not.toBe(id);
  });
});

describe('publishRelease with the folder store', () => {
  it('uploads the objects, then the manifest, then LAST the pointer', async () => {
    const store = new RecordingStore(new FolderStore(join(root, 'bucket')));
    const result = await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a', 'b.csv': 'b' })]), now: new Date('2026-01-22T10:00:00Z') });
    const id = result.release!.id;
    expect(store.writes).toEqual([objectKey(sha('a')), objectKey(sha('b')), releaseKey(id), RELEASE_LAYOUT.pointerKey]);
    const pointer = parseReleasePointer(readFileSync(join(root, 'bucket', RELEASE_LAYOUT.pointerKey), 'utf8'));
    expect(pointer.manifestSha256).toBe(sha(readFileSync(join(root, 'bucket', releaseKey(id)), 'utf8')));
    expect(readFileSync(join(root, 'bucket', objectKey(sha('a'))), 'utf8')).toBe('a');
  });

  it('uploads only what the bucket lacks, and names what changed', async () => {
    const store = new RecordingStore(new FolderStore(join(root, 'bucket')));
    await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a', 'b.csv': 'b', 'c.csv': 'c' })]), now: new Date('2026-01-22T10:00:00Z') });
    store.writes.length = 0;
    const result = await publishRelease({ store, local: await readLocalRelease([folder('v2', { 'a.csv': 'a', 'b.csv': 'B', 'd.csv': 'c' })]), now: new Date('2026-01-22T11:00:00Z') });
    expect(result.diff).toEqual({ added: ['d.csv'], changed: ['b.csv'], removed: ['c.csv'], unchanged: ['a.csv'] });
    expect(result.uploaded.map((f) => f.name)).toEqual(['b.csv']); // d.csv has c.csv's bytes: already there
    expect(store.writes[0]).toBe(objectKey(sha('B')));
    expect(store.writes.at(-1)).toBe(RELEASE_LAYOUT.pointerKey);
  });

  it('an interrupted publish is never live and resumes without sending a file twice', async () => {
    const bucket = new FolderStore(join(root, 'bucket'));
    const local = await readLocalRelease([folder('v1', { 'a.csv': 'a', 'b.csv': 'b' })]);
    const failing = new RecordingStore(bucket, sha('b'));
    await expect(publishRelease({ store: failing, local })).rejects.toThrow('connection reset');
    expect(await readLiveRelease(bucket)).toBeUndefined();
    const resumed = new RecordingStore(bucket);
    const result = await publishRelease({ store: resumed, local });
    expect(result.present.map((f) => f.name)).toEqual(['a.csv']);
    expect(resumed.writes[0]).toBe(objectKey(sha('b')));
  });

  it('--dry-run writes nothing; an unchanged folder publishes nothing', async () => {
    const store = new RecordingStore(new FolderStore(join(root, 'bucket')));
    const local = await readLocalRelease([folder('v1', { 'a.csv': 'a' })]);
    const dry = await publishRelease({ store, local, dryRun: true });
    expect(dry.diff.added).toEqual(['a.csv']);
    expect(store.writes).toEqual([]);
    await publishRelease({ store, local });
    store.writes.length = 0;
    expect((await publishRelease({ store, local })).release).toBeUndefined();
    expect(store.writes).toEqual([]);
  });

  it('--merge keeps the live files not named', async () => {
    const store = new FolderStore(join(root, 'bucket'));
    await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a', 'b.csv': 'b' })]) });
    const one = folder('one', { 'b.csv': 'B' });
    const result = await publishRelease({ store, local: await readLocalRelease([join(one, 'b.csv')]), merge: true });
    expect(result.diff).toEqual({ added: [], changed: ['b.csv'], removed: [], unchanged: ['a.csv'] });
    expect((await readLiveRelease(store))!.manifest.files.map((f) => f.name)).toEqual(['a.csv', 'b.csv']);
  });

  it('carries manifest.json as the policy and as a file; refuses a bad one', async () => {
    const store = new FolderStore(join(root, 'bucket'));
    const policy = { datasets: { a: { scopes: ['energy:read'] } } };
    await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a', 'manifest.json': JSON.stringify(policy) })]) });
    const live = (await readLiveRelease(store))!;
    expect(live.manifest.policy).toEqual(policy);
    expect(live.manifest.files.map((f) => f.name)).toEqual(['a.csv', 'manifest.json']);
    await expect(readLocalRelease([folder('bad', { 'manifest.json': '{"datasets":{"a":{"scope":1}}}' })])).rejects.toThrow(PublishInputError);
  });

  it('refuses private keys, odd names and missing paths', async () => {
    const key = `-----BEGIN PRIVATE ${'KEY'}-----\n${'A'.repeat(64)}\n`;
    await expect(readLocalRelease([folder('k', { 'a.csv': `x,y\n${key}` })])).rejects.toThrow('holds a private key');
    await expect(readLocalRelease([folder('n', { 'my data.csv': 'a' })])).rejects.toThrow('not publishable file name(s): "my data.csv"');
    await expect(readLocalRelease([join(root, 'nope')])).rejects.toThrow('no such file or folder');
  });
});

describe('rollback and status', () => {
  it('rollback points back to the previous release; a second one undoes it', async () => {
    const store = new FolderStore(join(root, 'bucket'));
    const first = (await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a' })]), now: new Date('2026-01-22T10:00:00Z') })).release!.id;
    const second = (await publishRelease({ store, local: await readLocalRelease([folder('v2', { 'a.csv': 'A' })]), now: new Date('2026-01-22T11:00:00Z') })).release!.id;
    expect(await rollbackRelease(store)).toEqual({ from: second, to: first });
    expect((await readLiveRelease(store))!.pointer).toMatchObject({ release: first, previous: second });
    expect(await rollbackRelease(store)).toEqual({ from: first, to: second });
  });

  it('rollback refuses when nothing is live or the target is gone', async () => {
    const store = new FolderStore(join(root, 'bucket'));
    await expect(rollbackRelease(store)).rejects.toThrow('has no live release');
    await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a' })]) });
    await expect(rollbackRelease(store)).rejects.toThrow('names no previous release');
    await expect(rollbackRelease(store, '20200101T000000Z-0123456789ab')).rejects.toThrow('is missing: cannot roll back');
  });

  it('status reads the pointer and the host status object', async () => {
    const store = new FolderStore(join(root, 'bucket'));
    expect(await releaseStatus(store)).toEqual({});
    const id = (await publishRelease({ store, local: await readLocalRelease([folder('v1', { 'a.csv': 'a' })]) })).release!.id;
    await store.putText(RELEASE_LAYOUT.hostStatusKey, JSON.stringify({ format: 1, serving: id, servingSince: '2026-01-22T10:00:05Z', checkedAt: '2026-01-22T10:00:25Z' }));
    const status = await releaseStatus(store);
    expect(status.live!.pointer.release).toBe(id);
    expect(status.host!.serving).toBe(id);
  });
});
