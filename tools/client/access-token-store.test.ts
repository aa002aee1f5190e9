import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPIRY_MARGIN_MS, FileTokenCache, MemoryTokenCache, type CachedToken } from './access-token-store';

const token = (expiresInMs: number, accessToken = 'tok'): CachedToken => ({ accessToken, tokenType: 'Bearer', expiresAt: Date.now() + expiresInMs });

describe('token caches hand out a token only until shortly before it expires', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'token-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['memory', () => new MemoryTokenCache()],
    ['file', () => new FileTokenCache(join(dir, 'tokens.json'))],
  ])('%s: a fresh token is returned, one inside the expiry margin is not', (_kind, make) => {
    const cache = make();
    cache.set('fresh', token(EXPIRY_MARGIN_MS + 60_000, 'fresh-token'));
    cache.set('stale', token(EXPIRY_MARGIN_MS - 1_000, 'stale-token'));
    expect(cache.get('fresh')?.accessToken).toBe('fresh-token');
    expect(cache.get('stale')).toBeUndefined();
    cache.delete('fresh');
    expect(cache.get('fresh')).toBeUndefined();
  });

  it('file: shared between instances, written 0600 in a 0700 folder', () => {
    const file = join(dir, 'client', 'tokens.json');
    new FileTokenCache(file).set('k', token(600_000, 'shared'));
    expect(new FileTokenCache(file).get('k')?.accessToken).toBe('shared');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'client')).mode & 0o777).toBe(0o700);
  });

  it('file: expired entries are dropped from the file on the next write', () => {
    const file = join(dir, 'tokens.json');
    const cache = new FileTokenCache(file);
    cache.set('old', token(1_000, 'old-token'));
    cache.set('new', token(600_000, 'new-token'));
    expect(readFileSync(file, 'utf8')).not.toContain('old-token');
  });

  it('file: a corrupt file is an empty cache, not an error', () => {
    const file = join(dir, 'tokens.json');
    writeFileSync(file, '{not json');
    const cache = new FileTokenCache(file);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', token(600_000, 'again'));
    expect(cache.get('k')?.accessToken).toBe('again');
  });
});
