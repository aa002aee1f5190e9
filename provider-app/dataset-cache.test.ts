import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetCache } from './dataset-cache';

describe('DatasetCache', () => {
  let dir: string;
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dataset-cache-'));
    clock = 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reuses a resolution within the TTL and sees a removed dataset once it has passed', async () => {
    writeFileSync(join(dir, 'meters.csv'), 'a\n');
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    const first = await cache.resolve('meters');
    expect(first?.stat.size).toBe(2);
    unlinkSync(join(dir, 'meters.csv'));
    clock += 999;
    expect(await cache.resolve('meters')).toBe(first);
    clock += 1;
    expect(await cache.resolve('meters')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('sees a changed dataset (new size, new mtime) once the TTL has passed', async () => {
    writeFileSync(join(dir, 'meters.csv'), 'a\n');
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    expect((await cache.resolve('meters'))?.stat.size).toBe(2);
    writeFileSync(join(dir, 'meters.csv'), 'a,b,c\n');
    clock += 1000;
    expect((await cache.resolve('meters'))?.stat.size).toBe(6);
  });

  it('follows a swap of the data folder symlink (as content-sync does) once the TTL has passed', async () => {
    for (const tree of ['v1', 'v2']) {
      mkdirSync(join(dir, tree));
      writeFileSync(join(dir, tree, 'meters.csv'), `${tree}\n`);
    }
    symlinkSync(join(dir, 'v1'), join(dir, 'current'));
    const cache = new DatasetCache(join(dir, 'current'), { ttlMs: 1000, now });
    expect((await cache.resolve('meters'))?.path).toBe(join(dir, 'v1', 'meters.csv'));
    symlinkSync(join(dir, 'v2'), join(dir, 'next'));
    renameSync(join(dir, 'next'), join(dir, 'current'));
    clock += 1000;
    expect((await cache.resolve('meters'))?.path).toBe(join(dir, 'v2', 'meters.csv'));
  });

  it('re-checks the symlink rule after the TTL: a dataset replaced by a link leaving the folder is refused', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    try {
      writeFileSync(join(outside, 'secret.csv'), 'top,secret\n');
      writeFileSync(join(dir, 'meters.csv'), 'a\n');
      const cache = new DatasetCache(dir, { ttlMs: 1000, now });
      expect(await cache.resolve('meters')).toBeDefined();
      unlinkSync(join(dir, 'meters.csv'));
      symlinkSync(join(outside, 'secret.csv'), join(dir, 'meters.csv'));
      clock += 1000;
      expect(await cache.resolve('meters')).toBeUndefined();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('never caches a name that does not resolve: a new dataset is visible at once', async () => {
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    expect(await cache.resolve('later')).toBeUndefined();
    writeFileSync(join(dir, 'later.csv'), 'x\n');
    expect((await cache.resolve('later'))?.name).toBe('later');
  });

  it('still refuses traversal and invalid names', async () => {
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    for (const name of ['../etc/passwd', '..', '.hidden', 'a/b']) expect(await cache.resolve(name)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays within maxEntries, evicting the oldest', async () => {
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.csv`), `${name}\n`);
    const cache = new DatasetCache(dir, { ttlMs: 1000, maxEntries: 2, now });
    const a = await cache.resolve('a');
    await cache.resolve('b');
    await cache.resolve('c');
    expect(cache.size).toBe(2);
    // `a` was evicted: resolved again, a new object.
    expect(await cache.resolve('a')).not.toBe(a);
  });

  it('with ttlMs 0 resolves on every request', async () => {
    writeFileSync(join(dir, 'meters.csv'), 'a\n');
    const cache = new DatasetCache(dir, { ttlMs: 0, now });
    expect(await cache.resolve('meters')).toBeDefined();
    unlinkSync(join(dir, 'meters.csv'));
    expect(await cache.resolve('meters')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('peek() returns a cached resolution only within the TTL, without touching the disk', async () => {
    writeFileSync(join(dir, 'meters.csv'), 'a\n');
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    expect(cache.peek('meters')).toBeUndefined();
    const file = await cache.resolve('meters');
    expect(cache.peek('meters')).toBe(file);
    clock += 1000;
    expect(cache.peek('meters')).toBeUndefined();
  });

  it('bypasses the cache when asked for a fresh resolution', async () => {
    writeFileSync(join(dir, 'meters.csv'), 'a\n');
    const cache = new DatasetCache(dir, { ttlMs: 1000, now });
    await cache.resolve('meters');
    unlinkSync(join(dir, 'meters.csv'));
    expect(await cache.resolve('meters', true)).toBeUndefined();
  });
});
