import { createHash } from 'node:crypto';
import type { IntrospectionResult, Introspector } from './introspection';

export interface CachingIntrospectorOptions {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  /**
   * Keep results with `active: false` too. @default true. The JWT mode says false: its
   * refusal of a token naming a key not yet fetched must not outlive the key's rotation in.
   */
  readonly cacheInactive?: boolean;
  /** For tests. @default Date.now */
  readonly now?: () => number;
}

interface Entry {
  readonly result: IntrospectionResult;
  readonly expiresAt: number;
}

/**
 * Wraps an introspector with a bounded cache keyed by a hash of the token (the token
 * itself is not kept as a key). An entry lives at most `ttlSeconds` and never past the
 * token's `exp`. Concurrent lookups of one token share one call. Failures are not cached.
 */
export class CachingIntrospector implements Introspector {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<IntrospectionResult>>();
  private readonly now: () => number;

  constructor(
    private readonly inner: Introspector,
    private readonly options: CachingIntrospectorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  peek(token: string): IntrospectionResult | undefined {
    const hit = this.entries.get(createHash('sha256').update(token).digest('base64url'));
    return hit && hit.expiresAt > this.now() ? hit.result : undefined;
  }

  async introspect(token: string): Promise<IntrospectionResult> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.result;
    if (hit) this.entries.delete(key);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const call = this.inner.introspect(token).then((result) => {
      this.store(key, result);
      return result;
    });
    this.pending.set(key, call);
    try {
      return await call;
    } finally {
      this.pending.delete(key);
    }
  }

  close(): void {
    this.inner.close?.();
  }

  private store(key: string, result: IntrospectionResult): void {
    if (this.options.ttlSeconds === 0) return;
    if (result.active !== true && this.options.cacheInactive === false) return;
    let expiresAt = this.now() + this.options.ttlSeconds * 1000;
    if (typeof result.exp === 'number') expiresAt = Math.min(expiresAt, result.exp * 1000);
    if (expiresAt <= this.now()) return;
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { result, expiresAt });
  }
}
