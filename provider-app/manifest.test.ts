import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, ManifestStore } from './manifest';

describe('ManifestStore', () => {
  let dir: string;
  let clock: number;
  const now = () => clock;
  const write = (content: unknown, mtimeSeconds: number) => {
    const file = join(dir, 'manifest.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    utimesSync(file, mtimeSeconds, mtimeSeconds);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    clock = 1000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a changed policy once the TTL has passed, not before', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    write({ datasets: { meters: { scopes: ['b:read'] } } }, 1_700_000_100);
    clock += 999;
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    clock += 1;
    expect((await store.policyFor('meters')).scopes).toEqual(['b:read']);
  });

  it('sees a removed and a newly added manifest within the TTL bound', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    unlinkSync(join(dir, 'manifest.json'));
    clock += 1000;
    expect((await store.policyFor('meters')).scopes).toEqual(['datasets:read']);
    write({ datasets: { meters: { scopes: ['c:read'], clientIds: ['x'] } } }, 1_700_000_200);
    clock += 1000;
    expect(await store.policyFor('meters')).toEqual({ scopes: ['c:read'], clientIds: ['x'] });
  });

  it('never trusts a broken manifest for any time: every call fails closed until it is fixed', async () => {
    write('{ broken', 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    write({ datasets: {} }, 1_700_000_300);
    expect(await store.load()).toEqual({ datasets: {} });
  });

  it('peekPolicy() answers from the last check only within the TTL, and never after a broken manifest', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { ttlMs: 1000, now });
    expect(store.peekPolicy('meters')).toBeUndefined();
    await store.load();
    expect(store.peekPolicy('meters')).toEqual({ scopes: ['a:read'] });
    expect(store.peekPolicy('other')).toEqual({ scopes: ['datasets:read'] });
    clock += 1000;
    expect(store.peekPolicy('meters')).toBeUndefined();
    write('{ broken', 1_700_000_100);
    await expect(store.load()).rejects.toBeInstanceOf(ManifestError);
    expect(store.peekPolicy('meters')).toBeUndefined();
  });

  it('without a TTL looks at the file on every call', async () => {
    write({ datasets: { meters: { scopes: ['a:read'] } } }, 1_700_000_000);
    const store = new ManifestStore(dir, 'datasets:read', { now });
    expect((await store.policyFor('meters')).scopes).toEqual(['a:read']);
    write({ datasets: { meters: { scopes: ['b:read'] } } }, 1_700_000_100);
    expect((await store.policyFor('meters')).scopes).toEqual(['b:read']);
  });
});
