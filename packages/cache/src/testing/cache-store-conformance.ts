/**
 * The store conformance suite: what every cache store must do, run against memory, redis and tiered
 * in this repository and exported so a custom store can prove it behaves the same.
 */
import { waitFor } from '@blueprint/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCacheError } from '../errors.js';
import type { CacheStore } from '../transport/store.js';

/** Options of {@link describeCacheStoreConformance}. */
export interface CacheStoreConformanceOptions {
  /**
   * Creates a fresh, unconnected store for one test. Give each call its own namespace (a unique Redis
   * prefix) so tests cannot see each other's entries.
   */
  readonly create: () => CacheStore | Promise<CacheStore>;
  /** Longest wait for an expiry to show, in ms. Default: 3000. */
  readonly expiryTimeout?: number;
}

const HOUR = 3_600_000;

function fresh(ms = HOUR): { freshUntil: number; expiresAt: number } {
  const freshUntil = Date.now() + ms;
  return { freshUntil, expiresAt: freshUntil };
}

/**
 * Registers the conformance tests of a store under `describe("<name> store conformance")`.
 *
 * @example
 * describeCacheStoreConformance('redis', { create: () => redisStore({ url, prefix: `test:${randomUUID()}:` }) });
 */
export function describeCacheStoreConformance(name: string, options: CacheStoreConformanceOptions): void {
  const expiryTimeout = options.expiryTimeout ?? 3_000;

  describe(`${name} store conformance`, () => {
    let store: CacheStore;

    beforeEach(async () => {
      store = await options.create();
      await store.connect();
    });

    afterEach(async () => {
      await store.clear();
      await store.close();
    });

    it('get returns undefined for a key never set', async () => {
      expect(await store.get('missing')).toBeUndefined();
    });

    it('set then get returns an equal value and its freshUntil', async () => {
      const times = fresh();
      await store.set('a', { id: 'p1', price: 12.5, tags: ['x', 'y'], nested: { ok: true } }, times);
      const entry = await store.get('a');
      expect(entry?.value).toEqual({ id: 'p1', price: 12.5, tags: ['x', 'y'], nested: { ok: true } });
      expect(entry?.freshUntil).toBe(times.freshUntil);
    });

    it('keeps Date, bigint, Map, Set, Uint8Array, NaN and undefined vs null', async () => {
      const value = {
        at: new Date('2024-05-06T07:08:09.010Z'),
        big: 12345678901234567890n,
        map: new Map<string, unknown>([['k', new Date(0)]]),
        set: new Set([1, 'two']),
        bytes: new Uint8Array([1, 2, 255]),
        nan: Number.NaN,
        nothing: null,
        list: [undefined, null, 1],
      };
      await store.set('types', value, fresh());
      const read = (await store.get('types'))?.value as typeof value;
      expect(read).toEqual(value);
      expect(read.at).toBeInstanceOf(Date);
      expect(typeof read.big).toBe('bigint');
      expect(read.map.get('k')).toBeInstanceOf(Date);
      expect(read.list[0]).toBeUndefined();
      expect(read.list[1]).toBeNull();
    });

    it('stores top-level primitives, null and undefined', async () => {
      for (const [key, value] of [
        ['s', 'text'],
        ['n', 42],
        ['b', false],
        ['z', null],
        ['u', undefined],
        ['big', -7n],
      ] as const) {
        await store.set(key, value, fresh());
        const entry = await store.get(key);
        expect(entry).toBeDefined();
        expect(entry?.value).toStrictEqual(value);
      }
    });

    it('returns copies: mutating a read or the written value changes nothing stored', async () => {
      const written = { list: [1, 2], inner: { n: 1 } };
      await store.set('copy', written, fresh());
      written.list.push(3);
      written.inner.n = 99;
      const first = (await store.get('copy'))?.value as typeof written;
      first.list.push(4);
      first.inner.n = 42;
      const second = (await store.get('copy'))?.value as typeof written;
      expect(second).toEqual({ list: [1, 2], inner: { n: 1 } });
      expect(second).not.toBe(first);
      second.list.push(5);
      second.inner.n = 7;
      expect((await store.get('copy'))?.value).toEqual({ list: [1, 2], inner: { n: 1 } });
    });

    it('a later set replaces the value', async () => {
      await store.set('k', 1, fresh());
      await store.set('k', 2, fresh());
      expect((await store.get('k'))?.value).toBe(2);
    });

    it('keeps a stale entry until expiresAt and reports its freshUntil', async () => {
      const now = Date.now();
      await store.set('stale', 'old', { freshUntil: now - 1_000, expiresAt: now + HOUR });
      const entry = await store.get('stale');
      expect(entry?.value).toBe('old');
      expect(entry?.freshUntil).toBe(now - 1_000);
    });

    it('forgets an entry at expiresAt', async () => {
      const freshUntil = Date.now() + 150;
      await store.set('short', 'v', { freshUntil, expiresAt: freshUntil });
      expect((await store.get('short'))?.value).toBe('v');
      await waitFor(async () => (await store.get('short')) === undefined, {
        timeout: expiryTimeout,
        interval: 20,
        message: 'the entry to expire',
      });
    });

    it('does not keep an entry whose expiresAt has passed', async () => {
      await store.set('gone', 'v', { freshUntil: Date.now() - 10, expiresAt: Date.now() - 5 });
      expect(await store.get('gone')).toBeUndefined();
    });

    it('delete removes the given keys and ignores absent ones', async () => {
      await store.set('d1', 1, fresh());
      await store.set('d2', 2, fresh());
      await store.set('d3', 3, fresh());
      await store.delete(['d1', 'd2', 'never-set']);
      expect(await store.get('d1')).toBeUndefined();
      expect(await store.get('d2')).toBeUndefined();
      expect((await store.get('d3'))?.value).toBe(3);
      await store.delete([]);
    });

    it('invalidateTags removes every tagged entry and keeps the others', async () => {
      await store.set('p1', 'one', { ...fresh(), tags: ['products', 'p:1'] });
      await store.set('p2', 'two', { ...fresh(), tags: ['products'] });
      await store.set('o1', 'order', { ...fresh(), tags: ['orders'] });
      await store.set('plain', 'untagged', fresh());
      await store.invalidateTags(['products']);
      expect(await store.get('p1')).toBeUndefined();
      expect(await store.get('p2')).toBeUndefined();
      expect((await store.get('o1'))?.value).toBe('order');
      expect((await store.get('plain'))?.value).toBe('untagged');
      await store.invalidateTags(['no-such-tag']);
      await store.invalidateTags([]);
    });

    it('a tag can be reused after it was invalidated', async () => {
      await store.set('t1', 1, { ...fresh(), tags: ['t'] });
      await store.invalidateTags(['t']);
      await store.set('t2', 2, { ...fresh(), tags: ['t'] });
      expect((await store.get('t2'))?.value).toBe(2);
      await store.invalidateTags(['t']);
      expect(await store.get('t2')).toBeUndefined();
    });

    it('invalidates many entries of one tag', async () => {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.set(`many:${i}`, i, { ...fresh(), tags: ['many'] })),
      );
      expect((await store.get('many:199'))?.value).toBe(199);
      await store.invalidateTags(['many']);
      const left = await Promise.all(Array.from({ length: 200 }, (_, i) => store.get(`many:${i}`)));
      expect(left.filter((entry) => entry !== undefined)).toHaveLength(0);
    });

    it('clear removes every entry', async () => {
      await store.set('c1', 1, fresh());
      await store.set('c2', 2, { ...fresh(), tags: ['c'] });
      await store.clear();
      expect(await store.get('c1')).toBeUndefined();
      expect(await store.get('c2')).toBeUndefined();
    });

    it('accepts keys with spaces, colons, quotes and non-ASCII text', async () => {
      const keys = ['with space', 'a:b:c', '"quoted"', 'ünïcødé ✓', '*?[glob]'];
      for (const key of keys) await store.set(key, key, fresh());
      for (const key of keys) expect((await store.get(key))?.value).toBe(key);
    });

    it('round-trips a 200 kB value', async () => {
      const big = { rows: Array.from({ length: 2_000 }, (_, i) => ({ i, text: 'x'.repeat(90) })) };
      await store.set('big', big, fresh());
      expect((await store.get('big'))?.value).toEqual(big);
    });

    it('rejects a value the codec cannot encode with CACHE_VALUE_INVALID', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(store.set('bad', cyclic, fresh())).rejects.toSatisfy((error) =>
        isCacheError(error, 'CACHE_VALUE_INVALID'),
      );
      await expect(store.set('bad', { $bp: 'reserved' }, fresh())).rejects.toSatisfy((error) =>
        isCacheError(error, 'CACHE_VALUE_INVALID'),
      );
      expect(await store.get('bad')).toBeUndefined();
    });

    it('lock, when the store has one, admits one holder at a time', async () => {
      if (store.lock === undefined) return;
      const first = await store.lock('locked');
      expect(first).toBeDefined();
      expect(await store.lock('locked')).toBeUndefined();
      await first?.release();
      const again = await store.lock('locked');
      expect(again).toBeDefined();
      await again?.release();
    });
  });
}
