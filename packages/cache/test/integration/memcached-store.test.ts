import { randomUUID } from 'node:crypto';
import { createCache, createStoreFromTopology, isCacheError } from '@blueprint/cache';
import { type MemcachedStore, type MemcachedTier, memcachedStore } from '@blueprint/cache/stores/memcached';
import type { TieredStore } from '@blueprint/cache/stores/tiered';
import { describeCacheStoreConformance } from '@blueprint/cache/testing';
import { parseTopology } from '@blueprint/core';
import { messageSigner } from '@blueprint/core/plugin';
import { waitFor } from '@blueprint/core/testing';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { memcachedForFile } from '../../../../test/harness/memcached-for-file.js';
import { memcachedGet, memcachedSet } from '../../../../test/harness/memcached-text.js';

const prefix = () => `test:${randomUUID().slice(0, 8)}:`;
const HOUR = 3_600_000;
const fresh = (ms = HOUR) => {
  const freshUntil = Date.now() + ms;
  return { freshUntil, expiresAt: freshUntil };
};

const [one, two] = await memcachedForFile(2);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connected(
  options: Partial<Parameters<typeof memcachedStore>[0]> = {},
): Promise<MemcachedStore> {
  const store = memcachedStore({
    servers: [one.address],
    prefix: prefix(),
    commandTimeout: '1s',
    ...options,
  } as Parameters<typeof memcachedStore>[0] & { l1?: undefined });
  cleanups.push(async () => {
    await store.clear().catch(() => undefined);
    await store.close();
  });
  await store.connect();
  return store;
}

describeCacheStoreConformance('memcached', {
  create: () => memcachedStore({ servers: [one.address], prefix: prefix(), commandTimeout: '1s', lock: {} }),
});

describeCacheStoreConformance('memcached on two servers', {
  create: () =>
    memcachedStore({ servers: [one.address, two.address], prefix: prefix(), commandTimeout: '1s', lock: {} }),
});

describeCacheStoreConformance('memcached with l1', {
  create: () =>
    memcachedStore({
      servers: [one.address, two.address],
      prefix: prefix(),
      commandTimeout: '1s',
      l1: { maxEntries: 1_000 },
      invalidation: { url: inject('redisUrl') },
    }),
});

describe('memcached store', () => {
  it('keeps entries as readable items under its prefix, with the header, and clear() touches nothing else', async () => {
    const store = await connected();
    const other = await connected();
    const times = fresh();
    await store.set('product:1', { id: 'p1' }, times);
    await other.set('product:1', 'other', times);
    expect(await memcachedGet(one.port, `${store.prefix}k:product:1`)).toBe(
      `${times.freshUntil},${times.expiresAt}|{"id":"p1"}`,
    );
    await memcachedSet(one.port, 'unrelated:key', 'kept');
    await store.clear();
    expect(await memcachedGet(one.port, `${store.prefix}k:product:1`)).toBeUndefined();
    expect(await memcachedGet(one.port, 'unrelated:key')).toBe('kept');
    expect((await other.get('product:1'))?.value).toBe('other');
  });

  it('hashes keys memcached would refuse (spaces, control characters, over 250 bytes), without mixing them up', async () => {
    const store = await connected();
    const long = `k${'x'.repeat(300)}`;
    const keys = ['with space', 'tab\there', long, `${long}y`, 'ünïcødé'.repeat(40)];
    for (const key of keys) await store.set(key, key, fresh());
    for (const key of keys) expect((await store.get(key))?.value).toBe(key);
    expect(await memcachedGet(one.port, `${store.prefix}k:with space`)).toBeUndefined();
  });

  it('keeps an entry whose life is over 30 days (memcached reads such an expiry as a Unix time)', async () => {
    const store = await connected();
    const day = 86_400_000;
    await store.set('long', 'kept', { freshUntil: Date.now() + 40 * day, expiresAt: Date.now() + 60 * day });
    await store.set('short', 'kept too', {
      freshUntil: Date.now() + 29 * day,
      expiresAt: Date.now() + 29 * day,
    });
    expect((await store.get('long'))?.value).toBe('kept');
    expect((await store.get('short'))?.value).toBe('kept too');
  });

  it('refuses a value over the item size limit with CACHE_VALUE_TOO_LARGE and removes the older entry', async () => {
    const store = await connected();
    await store.set('big', 'small at first', fresh());
    const huge = 'x'.repeat(1_100_000);
    const error = await store.set('big', huge, fresh()).catch((e: unknown) => e);
    expect(isCacheError(error, 'CACHE_VALUE_TOO_LARGE')).toBe(true);
    expect((error as { details: unknown }).details).toMatchObject({ key: 'big', limit: 1_048_576 });
    expect(await store.get('big')).toBeUndefined();
  });

  it('maps the server refusing a value (its -I below maxItemSize) to CACHE_VALUE_TOO_LARGE', async () => {
    const store = await connected({ maxItemSize: '4mb' });
    await store.set('big', 'small at first', fresh());
    const error = await store.set('big', 'x'.repeat(1_500_000), fresh()).catch((e: unknown) => e);
    expect(isCacheError(error, 'CACHE_VALUE_TOO_LARGE')).toBe(true);
    expect(await store.get('big')).toBeUndefined();
    expect(store.breakerState).toBe('closed');
  });

  it('through the Cache: a too large value is returned to the caller, not cached, and reported', async () => {
    const errors: unknown[] = [];
    const cache = createCache({ store: await connected(), onError: (error) => errors.push(error) });
    const huge = 'y'.repeat(1_100_000);
    expect(await cache.getOrSet('huge', async () => huge, { ttl: '1m' })).toBe(huge);
    expect(await cache.get('huge')).toBeUndefined();
    expect(errors.some((error) => isCacheError(error, 'CACHE_VALUE_TOO_LARGE'))).toBe(true);
  });

  it('treats items it did not write as misses, reports them, and never serves them', async () => {
    const store = await connected();
    const errors: unknown[] = [];
    const cache = createCache({ store, onError: (error) => errors.push(error) });
    const planted = {
      garbage: 'not an entry',
      header: 'abc,def|"x"',
      backwards: `${Date.now() + HOUR},${Date.now() + 1_000}|"x"`,
      codec: `${Date.now() + HOUR},${Date.now() + HOUR}|{"$bp":"nope","v":1}`,
      json: `${Date.now() + HOUR},${Date.now() + HOUR}|{"a":`,
      proto: `${Date.now() + HOUR},${Date.now() + HOUR}|{"__proto__":{"admin":true}}`,
      tags: `${Date.now() + HOUR},${Date.now() + HOUR},5|[1,2]"x"`,
      manyTags: (() => {
        const list = JSON.stringify(Array.from({ length: 5_000 }, (_, i) => [`t${i}`, 'g']));
        return `${Date.now() + HOUR},${Date.now() + HOUR},${list.length}|${list}"x"`;
      })(),
    };
    for (const [key, text] of Object.entries(planted))
      await memcachedSet(one.port, `${store.prefix}k:${key}`, text);
    for (const key of Object.keys(planted)) {
      const value = await cache.getOrSet(key, async () => `loaded ${key}`, { ttl: '1m' });
      expect(value).toBe(`loaded ${key}`);
      expect(({} as { admin?: boolean }).admin).toBeUndefined();
    }
    const corrupt = errors.filter((error) => isCacheError(error, 'CACHE_ENTRY_CORRUPT'));
    expect(corrupt).toHaveLength(Object.keys(planted).length);
    for (const error of corrupt) expect((error as Error).message).not.toContain('nope');
    expect(await cache.get('garbage')).toBe('loaded garbage');
  });

  it('invalidates tags by generation: one command per tag, whatever the number of entries', async () => {
    const store = await connected({ servers: [one.address, two.address] });
    for (let i = 0; i < 50; i++) await store.set(`p${i}`, i, { ...fresh(), tags: ['products', `p:${i}`] });
    await store.set('order', 'o', { ...fresh(), tags: ['orders'] });
    await store.invalidateTags(['p:3']);
    expect(await store.get('p3')).toBeUndefined();
    expect((await store.get('p4'))?.value).toBe(4);
    await store.invalidateTags(['products']);
    const left = await Promise.all(Array.from({ length: 50 }, (_, i) => store.get(`p${i}`)));
    expect(left.every((entry) => entry === undefined)).toBe(true);
    expect((await store.get('order'))?.value).toBe('o');
  });

  it('refuses more than 64 tags on one entry, which would cost a read each on every read', async () => {
    const store = await connected();
    const tags = Array.from({ length: 65 }, (_, i) => `t${i}`);
    await store.set('k', 'older', fresh());
    const error = await store.set('k', 'v', { ...fresh(), tags }).catch((e: unknown) => e);
    expect(isCacheError(error, 'CACHE_OPTIONS_INVALID')).toBe(true);
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'v', { ...fresh(), tags: tags.slice(0, 64) });
    expect((await store.get('k'))?.value).toBe('v');
  });

  it('treats an entry whose tag generation is gone (evicted) as a miss', async () => {
    const store = await connected();
    await store.set('tagged', 'v', { ...fresh(), tags: ['t'] });
    expect((await store.get('tagged'))?.value).toBe('v');
    await memcachedSet(one.port, `${store.prefix}t:t`, 'another-generation');
    expect(await store.get('tagged')).toBeUndefined();
  });

  it('shares the lock between stores of two processes (memcached add with an expiry)', async () => {
    const p = prefix();
    const a = await connected({ prefix: p, lock: { ttl: '1s' } });
    const b = await connected({ prefix: p, lock: { ttl: '1s' } });
    const lease = await a.lock!('k');
    expect(lease).toBeDefined();
    expect(await b.lock!('k')).toBeUndefined();
    await lease!.release();
    const other = await b.lock!('k');
    expect(other).toBeDefined();
    await waitFor(async () => (await a.lock!('k')) !== undefined, {
      timeout: 5_000,
      interval: 100,
      message: 'the lock to expire',
    });
  });

  it('reports readiness per server', async () => {
    const store = await connected({ servers: [one.address, two.address] });
    const health = await store.health();
    expect(health.ok).toBe(true);
    expect(Object.keys((health.details as { servers: object }).servers).sort()).toEqual(
      [one.address, two.address].sort(),
    );
  });

  it('is built from the topology section with the app prefix, and as a tiered store with l1', async () => {
    const store = (await createStoreFromTopology(
      {
        type: 'memcached',
        servers: [one.address],
        commandTimeout: 1_000,
        connectTimeout: 1_000,
        maxItemSize: 1_048_576,
        breaker: { threshold: 3, openFor: 2_000 },
      },
      { appName: 'shop' },
    )) as MemcachedStore;
    expect(store.type).toBe('memcached');
    expect(store.prefix).toBe('shop:cache:');
    const tiered = (await createStoreFromTopology(
      {
        type: 'memcached',
        servers: [one.address],
        prefix: prefix(),
        commandTimeout: 1_000,
        connectTimeout: 1_000,
        maxItemSize: 1_048_576,
        breaker: { threshold: 3, openFor: 2_000 },
        l1: { maxEntries: 100 },
        invalidation: { url: inject('redisUrl'), heartbeat: 2_000 },
      },
      { appName: 'shop' },
    )) as TieredStore;
    cleanups.push(() => tiered.close());
    expect(tiered.type).toBe('tiered');
    expect(tiered.healthCheckName).toBe('memcached:cache');
    await tiered.connect();
    await tiered.set('k', 'v', fresh());
    expect(tiered.l1.has('k')).toBe(true);
    expect((await tiered.health()).ok).toBe(true);
    await tiered.clear();
  });
});

describe('memcached store with auth on (signed entries)', () => {
  const signerOf = (secret: string) =>
    messageSigner(
      parseTopology({ app: 'x', auth: { secret }, processes: { main: { services: [] } } }),
      'cache',
    );
  const signer = signerOf('cache-entries-secret-0123456789-abcdefgh');

  it('reads its own signed entries, and refuses unsigned, wrongly signed and moved ones as reported misses', async () => {
    const p = prefix();
    const store = await connected({ prefix: p, signer });
    const errors: unknown[] = [];
    const cache = createCache({ store, onError: (error) => errors.push(error) });
    await cache.set('mine', { price: 1 }, { ttl: '1m', tags: ['t'] });
    expect(await cache.get('mine')).toEqual({ price: 1 });
    const signed = (await memcachedGet(one.port, `${p}k:mine`))!;
    expect(signed).toMatch(/^[A-Za-z0-9_-]{43}~\d+,\d+,/);

    await memcachedSet(one.port, `${p}k:unsigned`, `${Date.now() + HOUR},${Date.now() + HOUR}|{"price":0}`);
    await memcachedSet(one.port, `${p}k:moved`, signed);
    const other = await connected({
      prefix: p,
      signer: signerOf('another-secret-of-at-least-32-characters'),
    });
    await other.set('forged', { price: 0 }, fresh());
    for (const key of ['unsigned', 'moved', 'forged']) {
      expect(await cache.getOrSet(key, async () => ({ price: 2 }), { ttl: '1m' })).toEqual({ price: 2 });
    }
    const refused = errors.filter(
      (error) =>
        isCacheError(error, 'CACHE_ENTRY_CORRUPT') &&
        (error as { details: { reason?: string } }).details.reason === 'signature',
    );
    expect(refused).toHaveLength(3);
    expect(await cache.get('mine')).toEqual({ price: 1 });
  });

  it('signs entries when the topology section is built with the app’s signer (auth on), l1 or not', async () => {
    for (const l1 of [undefined, { maxEntries: 10 }]) {
      const p = prefix();
      const section = {
        type: 'memcached',
        servers: [one.address],
        prefix: p,
        commandTimeout: 1_000,
        connectTimeout: 1_000,
        maxItemSize: 1_048_576,
        breaker: { threshold: 3, openFor: 2_000 },
        ...(l1 === undefined ? {} : { l1, invalidation: { url: inject('redisUrl'), heartbeat: 2_000 } }),
      };
      const store = await createStoreFromTopology(section, { appName: 'shop', signer });
      cleanups.push(() => store.close());
      await store.connect();
      await store.set('k', 'v', fresh());
      expect(await memcachedGet(one.port, `${p}k:k`)).toMatch(/^[A-Za-z0-9_-]{43}~/);
      expect((await store.get('k'))?.value).toBe('v');
      await store.clear();
    }
  });
});

describe('memcached with l1 in two processes', () => {
  it('drops the other process’s L1 copy on a write, a delete and a tag invalidation', async () => {
    const p = prefix();
    const make = () =>
      memcachedStore({
        servers: [one.address, two.address],
        prefix: p,
        commandTimeout: '1s',
        l1: {},
        invalidation: { url: inject('redisUrl') },
      }) as TieredStore<MemcachedTier>;
    const a = make();
    const b = make();
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await Promise.all([a.connect(), b.connect()]);
    await a.set('k', 1, { ...fresh(), tags: ['t'] });
    // b reads k only once a's message about k has arrived: a read that an invalidation overtakes does not fill L1.
    await waitFor(() => b.stats().invalidationsReceived === 1, {
      timeout: 2_000,
      interval: 5,
      message: 'b to hear of k',
    });
    expect((await b.get('k'))?.value).toBe(1);
    expect(b.l1.has('k')).toBe(true);
    await a.set('k', 2, { ...fresh(), tags: ['t'] });
    await waitFor(() => !b.l1.has('k'), { timeout: 2_000, interval: 5, message: 'b to drop k' });
    expect((await b.get('k'))?.value).toBe(2);
    await a.invalidateTags(['t']);
    await waitFor(() => !b.l1.has('k'), { timeout: 2_000, interval: 5, message: 'b to drop k by tag' });
    expect(await b.get('k')).toBeUndefined();
    await a.set('j', 'x', fresh());
    await waitFor(() => b.stats().invalidationsReceived === 4, {
      timeout: 2_000,
      interval: 5,
      message: 'b to hear of j',
    });
    expect((await b.get('j'))?.value).toBe('x');
    expect(b.l1.has('j')).toBe(true);
    await a.delete(['j']);
    await waitFor(() => !b.l1.has('j'), { timeout: 2_000, interval: 5, message: 'b to drop j' });
    await a.clear();
  });
});
