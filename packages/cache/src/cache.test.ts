import { chaosStore } from '@blueprint/cache/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from './cache.js';
import { isCacheError } from './errors.js';
import { memoryStore } from './stores/memory/index.js';

afterEach(() => {
  vi.useRealTimers();
});

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Cache.getOrSet', () => {
  it('loads on a miss, then answers from the store', async () => {
    const cache = createCache();
    const loader = vi.fn(async () => ({ id: 'p1' }));
    expect(await cache.getOrSet('k', loader, { ttl: '1m' })).toEqual({ id: 'p1' });
    expect(await cache.getOrSet('k', loader, { ttl: '1m' })).toEqual({ id: 'p1' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, loaderCalls: 1, errors: 0 });
  });

  it('runs the loader once for 1,000 concurrent misses of one key, and gives each caller its own copy', async () => {
    const cache = createCache();
    const gate = deferred<void>();
    const loader = vi.fn(async () => {
      await gate.promise;
      return { n: 1, list: [1] };
    });
    const calls = Array.from({ length: 1_000 }, () => cache.getOrSet('hot', loader, { ttl: '1m' }));
    gate.resolve();
    const results = await Promise.all(calls);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(new Set(results).size).toBe(1_000);
    results[0]!.list.push(2);
    expect(results[1]).toEqual({ n: 1, list: [1] });
    expect(cache.stats()).toMatchObject({ misses: 1_000, loaderCalls: 1 });
  });

  it('shares a loader failure with every waiting caller and caches nothing', async () => {
    const cache = createCache();
    let runs = 0;
    const loader = async () => {
      runs++;
      throw new Error('db down');
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.getOrSet('k', loader, { ttl: '1m' })),
    );
    expect(runs).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'db down')).toBe(
      true,
    );
    expect(await cache.getOrSet('k', async () => 'ok', { ttl: '1m' })).toBe('ok');
    expect(cache.stats()).toMatchObject({ loaderErrors: 1, loaderCalls: 2 });
  });

  it('a caller mutating a cached result cannot poison the cache', async () => {
    const cache = createCache();
    const first = await cache.getOrSet('k', async () => ({ items: ['a'] }), { ttl: '1m' });
    first.items.push('mutated by the loader caller');
    const hit = await cache.getOrSet('k', async () => ({ items: ['never'] }), { ttl: '1m' });
    expect(hit).toEqual({ items: ['a'] });
    hit.items.length = 0;
    expect(await cache.get('k')).toEqual({ items: ['a'] });
  });

  it('keeps Dates, bigints, Maps, Sets and undefined vs null through the cache', async () => {
    const cache = createCache();
    const value = {
      at: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      m: new Map([[1, 'x']]),
      s: new Set(['y']),
      n: null,
    };
    await cache.getOrSet('k', async () => value, { ttl: '1m' });
    const hit = await cache.getOrSet<typeof value | null>('k', async () => null, { ttl: '1m' });
    expect(hit).toEqual(value);
    expect(hit?.at).toBeInstanceOf(Date);
    expect(hit?.big).toBe(2n ** 70n);
    await cache.set('u', undefined, { ttl: '1m' });
    expect(await cache.getOrSet('u', async () => 'loaded', { ttl: '1m' })).toBeUndefined();
  });

  it('reloads after the ttl (fake timers)', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    let version = 0;
    const loader = async () => ++version;
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe(1);
    vi.advanceTimersByTime(9_999);
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe(2);
  });

  it('serves a stale value while the loader fails, within staleFor only (fake timers)', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    const options = { ttl: '10s', staleFor: '1m', refreshTimeout: '100ms' };
    await cache.getOrSet('k', async () => 'v1', options);
    vi.advanceTimersByTime(10_000);
    const failing = async (): Promise<string> => {
      throw new Error('db down');
    };
    expect(await cache.getOrSet('k', failing, options)).toBe('v1');
    expect(await cache.getOrSet('k', failing, options)).toBe('v1');
    expect(cache.stats()).toMatchObject({ staleServed: 2, loaderErrors: 2 });
    vi.advanceTimersByTime(60_000);
    await expect(cache.getOrSet('k', failing, options)).rejects.toThrow('db down');
  });

  it('with a stale value, answers at once and refreshes in the background (stale-while-revalidate)', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    await cache.getOrSet('k', async () => 'v1', { ttl: '10s', staleFor: '1m' });
    vi.advanceTimersByTime(10_001);
    const slow = deferred<string>();
    const refresh = vi.fn(() => slow.promise);
    expect(await cache.getOrSet('k', refresh, { ttl: '10s', staleFor: '1m' })).toBe('v1');
    expect(await cache.getOrSet('k', refresh, { ttl: '10s', staleFor: '1m' })).toBe('v1');
    expect(refresh).toHaveBeenCalledTimes(1);
    slow.resolve('v2');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
    expect(await cache.getOrSet('k', refresh, { ttl: '10s', staleFor: '1m' })).toBe('v2');
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('waits up to refreshTimeout for the refresh before serving stale', async () => {
    vi.useFakeTimers();
    const cache = createCache();
    const options = { ttl: '10s', staleFor: '1m', refreshTimeout: '200ms' };
    await cache.getOrSet('k', async () => 'v1', options);
    /** Reads `k` once it is stale, with a refresh that loads `value` in `ms`. */
    const staleRead = (value: string, ms: number) => {
      vi.advanceTimersByTime(10_001);
      return cache.getOrSet('k', () => new Promise<string>((r) => setTimeout(() => r(value), ms)), options);
    };
    const quick = staleRead('v2', 50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await quick).toBe('v2');
    const slow = staleRead('v3', 1_000);
    await vi.advanceTimersByTimeAsync(200);
    expect(await slow).toBe('v2');
    await vi.advanceTimersByTimeAsync(800);
    expect(await cache.get('k')).toBe('v3');
  });

  it('does not store a load that a delete overtook', async () => {
    const cache = createCache();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { ttl: '1m' });
    await cache.delete('k');
    gate.resolve('old');
    expect(await pending).toBe('old');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('rejects bad options with CACHE_OPTIONS_INVALID', async () => {
    const cache = createCache();
    for (const options of [
      { ttl: 0 },
      { ttl: 'soon' },
      { ttl: '1m', staleFor: '-1s' },
      {} as { ttl: number },
    ]) {
      await expect(cache.getOrSet('k', async () => 1, options)).rejects.toSatisfy((e) =>
        isCacheError(e, 'CACHE_OPTIONS_INVALID'),
      );
    }
  });

  it('rejects a value the codec cannot encode with CACHE_VALUE_INVALID', async () => {
    const cache = createCache();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cache.getOrSet('k', async () => cyclic, { ttl: '1m' })).rejects.toSatisfy((e) =>
      isCacheError(e, 'CACHE_VALUE_INVALID'),
    );
    await expect(cache.set('k', cyclic, { ttl: '1m' })).rejects.toSatisfy((e) =>
      isCacheError(e, 'CACHE_VALUE_INVALID'),
    );
  });
});

describe('Cache with tags, delete and clear', () => {
  it('invalidateTags removes tagged entries only', async () => {
    const cache = createCache();
    await cache.set('p1', 1, { ttl: '1m', tags: ['products'] });
    await cache.set('o1', 2, { ttl: '1m', tags: ['orders'] });
    await cache.invalidateTags('products');
    expect(await cache.get('p1')).toBeUndefined();
    expect(await cache.get('o1')).toBe(2);
    await cache.delete(['o1']);
    expect(await cache.get('o1')).toBeUndefined();
    await cache.set('x', 1, { ttl: '1m' });
    await cache.clear();
    expect(await cache.get('x')).toBeUndefined();
  });
});

describe('Cache when the store fails', () => {
  it('falls through to the loader, counts the errors and reports them to onError', async () => {
    const errors: string[] = [];
    const store = chaosStore(memoryStore()).fail();
    const cache = createCache({
      store,
      onError: (error, { operation }) => errors.push(`${operation}:${(error as { code: string }).code}`),
    });
    let runs = 0;
    expect(await cache.getOrSet('k', async () => ++runs, { ttl: '1m' })).toBe(1);
    expect(await cache.getOrSet('k', async () => ++runs, { ttl: '1m' })).toBe(2);
    await cache.set('k', 1, { ttl: '1m' });
    await cache.delete('k');
    await cache.invalidateTags(['t']);
    expect(await cache.get('k')).toBeUndefined();
    expect(errors).toEqual([
      'get:CACHE_STORE_UNAVAILABLE',
      'set:CACHE_STORE_UNAVAILABLE',
      'get:CACHE_STORE_UNAVAILABLE',
      'set:CACHE_STORE_UNAVAILABLE',
      'set:CACHE_STORE_UNAVAILABLE',
      'delete:CACHE_STORE_UNAVAILABLE',
      'invalidateTags:CACHE_STORE_UNAVAILABLE',
      'get:CACHE_STORE_UNAVAILABLE',
    ]);
    expect(cache.stats().errors).toBe(8);
    store.heal();
    expect(await cache.getOrSet('k', async () => ++runs, { ttl: '1m' })).toBe(3);
    expect(await cache.getOrSet('k', async () => ++runs, { ttl: '1m' })).toBe(3);
  });

  it('an onError hook that throws does not fail the call', async () => {
    const cache = createCache({
      store: chaosStore(memoryStore()).fail(),
      onError: () => {
        throw new Error('logger broke');
      },
    });
    expect(await cache.getOrSet('k', async () => 'ok', { ttl: '1m' })).toBe('ok');
  });

  it('serves a stale value when the store is slow but still answers', async () => {
    const store = chaosStore(memoryStore());
    const cache = createCache({ store });
    expect(await cache.getOrSet('k', async () => 'v', { ttl: '1m' })).toBe('v');
    store.lag(5);
    expect(await cache.getOrSet('k', async () => 'other', { ttl: '1m' })).toBe('v');
  });
});
