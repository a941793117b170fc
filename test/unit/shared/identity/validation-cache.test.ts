import { describe, expect, it } from 'vitest';
import type { KeystoneIdentity } from '#shared/identity/keystone';
import { ValidationCache } from '#shared/identity/validation-cache';

const identity = (expiresAt: number): KeystoneIdentity => ({
  userId: 'u',
  projectId: 'p',
  roles: ['member'],
  expiresAt: new Date(expiresAt),
});

describe('ValidationCache', () => {
  it('keeps a validation for its lifetime', () => {
    let now = 0;
    const cache = new ValidationCache({ ttlMs: 1000, now: () => now });
    cache.set('t', identity(10_000));
    now = 999;
    expect(cache.get('t')).toEqual(identity(10_000));
    now = 1000;
    expect(cache.get('t')).toBeUndefined();
  });

  it('never past the token expiry', () => {
    let now = 0;
    const cache = new ValidationCache({ ttlMs: 60_000, now: () => now });
    cache.set('t', identity(500));
    now = 499;
    expect(cache.get('t')).toBeDefined();
    now = 500;
    expect(cache.get('t')).toBeUndefined();
  });

  it('keeps nothing with a zero lifetime or an expired token', () => {
    const cache = new ValidationCache({ ttlMs: 0, now: () => 0 });
    cache.set('t', identity(10_000));
    expect(cache.get('t')).toBeUndefined();
    const other = new ValidationCache({ ttlMs: 1000, now: () => 10 });
    other.set('t', identity(10));
    expect(other.size).toBe(0);
  });

  it('drops the oldest entry past its size', () => {
    const cache = new ValidationCache({ ttlMs: 1000, maxEntries: 2, now: () => 0 });
    for (const token of ['a', 'b', 'c']) cache.set(token, identity(10_000));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).toEqual([false, true, true]);
  });

  it('keys entries by a hash, never by the token itself', () => {
    expect(ValidationCache.keyOf('secret-token')).toMatch(/^[0-9a-f]{64}$/);
    expect(ValidationCache.keyOf('secret-token')).not.toContain('secret');
  });
});
