import { describeCacheStoreConformance } from '@blueprint/cache/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCacheError } from '../../errors.js';
import { MemoryStore, memoryStore } from './index.js';

describeCacheStoreConformance('memory', { create: () => memoryStore() });

const times = (ttl: number, staleFor = 0) => {
  const freshUntil = Date.now() + ttl;
  return { freshUntil, expiresAt: freshUntil + staleFor };
};

describe('memory store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set('a', 1, times(60_000));
    await store.set('b', 2, times(60_000));
    await store.set('c', 3, times(60_000));
    store.get('a');
    await store.set('d', 4, times(60_000));
    expect(store.size).toBe(3);
    expect(store.has('b')).toBe(false);
    expect(store.get('a')?.value).toBe(1);
    expect(store.get('c')?.value).toBe(3);
    expect(store.get('d')?.value).toBe(4);
  });

  it('evicts by bytes, and never keeps an entry larger than maxBytes', async () => {
    const store = memoryStore({ maxEntries: 1_000, maxBytes: 1_000 });
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, 'x'.repeat(200), times(60_000));
    expect(store.bytes).toBeLessThanOrEqual(1_000);
    expect(store.has('k9')).toBe(true);
    expect(store.has('k0')).toBe(false);
    await store.set('huge', 'y'.repeat(5_000), times(60_000));
    expect(store.has('huge')).toBe(false);
    expect(store.has('k9')).toBe(true);
  });

  it('checks expiry on read without a timer per key', async () => {
    const store = memoryStore();
    await store.set('k', 'v', times(1_000, 500));
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(999);
    expect(store.get('k')?.freshUntil).toBeGreaterThan(Date.now());
    vi.advanceTimersByTime(1);
    const stale = store.get('k');
    expect(stale?.value).toBe('v');
    expect(stale?.freshUntil).toBeLessThanOrEqual(Date.now());
    vi.advanceTimersByTime(500);
    expect(store.get('k')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('drops expired entries at the old end when writing', async () => {
    const store = memoryStore();
    await store.set('old', 1, times(100));
    await store.set('young', 2, times(10_000));
    vi.advanceTimersByTime(200);
    await store.set('new', 3, times(10_000));
    expect(store.size).toBe(2);
  });

  it('replacing an entry updates its tags and bytes', async () => {
    const store = memoryStore();
    await store.set('k', 'aaaa', { ...times(10_000), tags: ['first'] });
    const before = store.bytes;
    await store.set('k', 'aaaaaaaa', { ...times(10_000), tags: ['second'] });
    expect(store.bytes).toBe(before + 4);
    await store.invalidateTags(['first']);
    expect(store.has('k')).toBe(true);
    await store.invalidateTags(['second']);
    expect(store.has('k')).toBe(false);
    expect(store.bytes).toBe(0);
  });

  it('rejects invalid bounds with CACHE_OPTIONS_INVALID', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'CACHE_OPTIONS_INVALID' }),
    );
    let caught: unknown;
    try {
      memoryStore({ maxBytes: -1 });
    } catch (error) {
      caught = error;
    }
    expect(isCacheError(caught, 'CACHE_OPTIONS_INVALID')).toBe(true);
  });
});
