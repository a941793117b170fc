/**
 * Successful validations, remembered per token hash until the earlier of the cache lifetime and
 * the token's own expiry (keystonemiddleware's token cache, in the authorizer's memory). Failures
 * are never remembered: a 401 or 503 is asked again next time. A revoked token stays usable until
 * its entry lapses, at most `ttlMs` (docs/identity.md#what-happens-on-a-request).
 */
import { createHash } from 'node:crypto';
import type { KeystoneIdentity } from './keystone.ts';

export interface ValidationCacheOptions {
  readonly ttlMs: number;
  /** Entries kept at most; the oldest goes first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class ValidationCache {
  private readonly entries = new Map<string, { identity: KeystoneIdentity; until: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: ValidationCacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Tokens are credentials: only their hash is kept. */
  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  get(token: string): KeystoneIdentity | undefined {
    const key = ValidationCache.keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.identity;
    this.entries.delete(key);
    return undefined;
  }

  set(token: string, identity: KeystoneIdentity): void {
    if (this.options.ttlMs <= 0) return;
    const until = Math.min(this.now() + this.options.ttlMs, identity.expiresAt.getTime());
    if (until <= this.now()) return;
    const key = ValidationCache.keyOf(token);
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { identity, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
