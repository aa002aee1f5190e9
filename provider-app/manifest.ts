import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const MANIFEST_FILE = 'manifest.json';

/**
 * Optional `<dataDir>/manifest.json`:
 * `{ "datasets": { "<name>": { "scopes": ["energy:read"], "clientIds": ["consumer-1"] } } }`.
 * A dataset not listed (or listed without `scopes`) requires the configured default scope;
 * with no default either, it is not served.
 */
export const manifestSchema = z.strictObject({
  datasets: z.record(
    z.string(),
    z.strictObject({
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be an OAuth scope token')).optional(),
      clientIds: z.array(z.string().min(1)).optional(),
    }),
  ),
});

export type Manifest = z.output<typeof manifestSchema>;

/** What one dataset demands beyond a valid bound token. */
export interface AccessPolicy {
  /** Every one of these scopes (case-insensitive). */
  readonly scopes: readonly string[];
  /** When present, only these client ids. */
  readonly clientIds?: readonly string[];
}

/** The manifest is present but broken: fail closed (the caller answers 503 and logs it). */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export interface ManifestStoreOptions {
  /** Longest the last check (present and valid, or absent) is trusted without a `stat`. @default 0 */
  readonly ttlMs?: number;
  /** Monotonic clock in ms, for tests. @default performance.now */
  readonly now?: () => number;
}

/**
 * Reads the manifest when its mtime changes, so a data sync can update policy without a
 * restart. With `ttlMs`, the file is looked at no more than once per `ttlMs` (a stat per
 * request was a measurable cost), so a policy change takes effect at most `ttlMs` late. A
 * broken manifest is never trusted for any time: every request re-checks it (and fails closed).
 */
export class ManifestStore {
  private cached: { mtimeMs: number; manifest: Manifest } | undefined;
  private checked: { at: number; manifest: Manifest | undefined } | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly dataDir: string,
    private readonly defaultScope: string | undefined,
    options: ManifestStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 0;
    this.now = options.now ?? (() => performance.now());
  }

  /** Forgets the last check (the data tree was swapped): the next call looks at the file. */
  clear(): void {
    this.checked = undefined;
  }

  async load(): Promise<Manifest | undefined> {
    if (this.checked && this.now() - this.checked.at < this.ttlMs) return this.checked.manifest;
    const at = this.now();
    this.checked = undefined;
    const manifest = await this.read();
    if (this.ttlMs > 0) this.checked = { at, manifest };
    return manifest;
  }

  private async read(): Promise<Manifest | undefined> {
    const file = join(this.dataDir, MANIFEST_FILE);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ManifestError(`${MANIFEST_FILE}: ${(error as Error).message}`);
    }
    if (this.cached?.mtimeMs === stat.mtimeMs) return this.cached.manifest;
    let raw: unknown;
    try {
      raw = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (error) {
      throw new ManifestError(`${MANIFEST_FILE}: not valid JSON (${(error as Error).message})`);
    }
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ManifestError(`${MANIFEST_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    this.cached = { mtimeMs: stat.mtimeMs, manifest: parsed.data };
    return parsed.data;
  }

  /**
   * The policy for one dataset: its manifest entry's scopes, else the default scope. With
   * neither the policy has no scopes, which the decision pipeline refuses (fail closed).
   */
  async policyFor(name: string): Promise<AccessPolicy> {
    return this.policyIn(await this.load(), name);
  }

  /** `policyFor` from the last check while it is within the TTL, without touching the disk (undefined: ask `policyFor`). */
  peekPolicy(name: string): AccessPolicy | undefined {
    if (!this.checked || this.now() - this.checked.at >= this.ttlMs) return undefined;
    return this.policyIn(this.checked.manifest, name);
  }

  private policyIn(manifest: Manifest | undefined, name: string): AccessPolicy {
    const entry = manifest?.datasets[name];
    const defaults = this.defaultScope ? [this.defaultScope] : [];
    return { scopes: entry?.scopes ?? defaults, ...(entry?.clientIds ? { clientIds: entry.clientIds } : {}) };
  }
}
