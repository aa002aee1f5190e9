import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** An access token and when it stops being usable (epoch ms). */
export interface CachedToken {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly expiresAt: number;
  readonly scope?: string;
}

export interface TokenCache {
  get(key: string): CachedToken | undefined;
  set(key: string, token: CachedToken): void;
  delete(key: string): void;
}

/**
 * How long before its expiry a token stops being handed out: long enough that it
 * cannot expire between the cache look-up and the resource server's check.
 */
export const EXPIRY_MARGIN_MS = 30_000;

export function isFresh(token: CachedToken, now = Date.now()): boolean {
  return token.expiresAt - EXPIRY_MARGIN_MS > now;
}

/** Per-process cache. */
export class MemoryTokenCache implements TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  get(key: string): CachedToken | undefined {
    const token = this.tokens.get(key);
    if (token && !isFresh(token)) {
      this.tokens.delete(key);
      return undefined;
    }
    return token;
  }

  set(key: string, token: CachedToken): void {
    this.tokens.set(key, token);
  }

  delete(key: string): void {
    this.tokens.delete(key);
  }
}

/**
 * A cache shared by successive CLI runs: one JSON file, mode 0600 in a 0700 folder
 * (tokens are secrets), replaced atomically, expired entries dropped on write. A
 * missing or unreadable file is an empty cache, never an error.
 */
export class FileTokenCache implements TokenCache {
  constructor(readonly file: string) {}

  get(key: string): CachedToken | undefined {
    const token = this.read()[key];
    return token && isFresh(token) ? token : undefined;
  }

  set(key: string, token: CachedToken): void {
    const entries = this.read();
    entries[key] = token;
    this.write(entries);
  }

  delete(key: string): void {
    const entries = this.read();
    delete entries[key];
    this.write(entries);
  }

  private read(): Record<string, CachedToken> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, CachedToken>) : {};
    } catch {
      return {};
    }
  }

  private write(entries: Record<string, CachedToken>): void {
    const live = Object.fromEntries(Object.entries(entries).filter(([, t]) => isFresh(t)));
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(live), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
