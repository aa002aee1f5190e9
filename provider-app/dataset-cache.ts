import { resolveDataset, type DatasetFile } from './datasets';

export interface DatasetCacheOptions {
  /** Longest a resolution is reused; 0 resolves on every request. */
  readonly ttlMs: number;
  /** Bound on cached names. @default 1000 */
  readonly maxEntries?: number;
  /** Monotonic clock in ms, for tests. @default performance.now */
  readonly now?: () => number;
}

interface Entry {
  readonly file: DatasetFile;
  readonly checkedAt: number;
}

/**
 * `realpath` + `stat` of the dataset was about a sixth of the app's CPU per request. This
 * keeps a found dataset's resolution (real path inside the real data folder, and its stat)
 * for at most `ttlMs`, after which the full check of `resolveDataset` — no traversal, no
 * symlink leaving the folder, a regular file — runs again. So a dataset swap (the data
 * folder is a symlink replaced atomically), a changed or a removed file is seen at most
 * `ttlMs` late. Names that do not resolve are never cached, so a new dataset is visible at
 * once and unknown names cannot fill the cache; found names are bounded by `maxEntries`.
 */
export class DatasetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly dataDir: string,
    private readonly options: DatasetCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets every resolution (the data tree was swapped). */
  clear(): void {
    this.entries.clear();
  }

  /** The cached resolution while it is within the TTL, without touching the disk (undefined: ask `resolve`). */
  peek(name: string): DatasetFile | undefined {
    const hit = this.entries.get(name);
    return hit && this.now() - hit.checkedAt < this.options.ttlMs ? hit.file : undefined;
  }

  /** Like `resolveDataset`; `fresh` skips the cache (after the cached path failed to open). */
  async resolve(name: string, fresh = false): Promise<DatasetFile | undefined> {
    const hit = this.entries.get(name);
    if (hit && !fresh && this.now() - hit.checkedAt < this.options.ttlMs) return hit.file;
    if (hit) this.entries.delete(name);
    const checkedAt = this.now();
    const file = await resolveDataset(this.dataDir, name);
    if (!file || this.options.ttlMs === 0) return file;
    this.entries.delete(name);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(name, { file, checkedAt });
    return file;
  }
}
