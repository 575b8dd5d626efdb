/**
 * Nothing read from the cache is trusted more than a request: a cached value that fails its method's
 * output schema is a miss that is reported and deleted; with `auth` in the topology, entries carry a
 * signature, so a schema-valid value written by anyone without the secret is a miss too; and a tiered
 * store's L1 invalidation channel ignores messages that are not signed.
 */
import { randomUUID } from 'node:crypto';
import {
  Cached,
  type CacheOperation,
  CacheTokens,
  cachePlugin,
  createCache,
  isCacheError,
} from '@blueprint/cache';
import { redisStore } from '@blueprint/cache/stores/redis';
import type { TieredStore } from '@blueprint/cache/stores/tiered';
import { defineService, type ImplementationOf, injectable, service } from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, inject as provided } from 'vitest';
import { z } from 'zod';
import { startMonolith } from '../../../../test/harness/monolith.js';

const SECRET = 'cache-entries-secret-0123456789-abcdefgh';
const url = provided('redisUrl');
const admin = new Redis(url);
afterAll(async () => {
  await admin.quit();
});

const Products = defineService('products', {
  get: {
    input: z.object({ id: z.string() }),
    output: z.object({ id: z.string(), priceCents: z.number().int().positive() }),
  },
});

/** Stands in for the products table. */
const prices = new Map([
  ['p-1', 8_900],
  ['p-2', 129_000],
]);
let loads = 0;

@injectable()
class ProductsService implements ImplementationOf<typeof Products> {
  @Cached({ ttl: '1m' })
  async get({ id }: { id: string }) {
    loads++;
    return { id, priceCents: prices.get(id) ?? 1 };
  }
}

interface Reported {
  readonly code: string | undefined;
  readonly reason: unknown;
  readonly operation: CacheOperation;
}

async function startShop(options: { auth: boolean; type: 'redis' | 'tiered'; prefix: string }) {
  const reported: Reported[] = [];
  const app = {
    name: 'untrusted',
    services: [service(Products, ProductsService)],
    plugins: [
      cachePlugin({
        onError: (error, { operation }) =>
          reported.push({
            code: isCacheError(error) ? error.code : undefined,
            reason: isCacheError(error) ? (error.details as { reason?: unknown })?.reason : undefined,
            operation,
          }),
      }),
    ],
  };
  const shop = await startMonolith(app, {
    topology: {
      app: 'untrusted',
      ...(options.auth ? { auth: { secret: SECRET } } : {}),
      cache: { type: options.type, url, prefix: options.prefix, commandTimeout: '1s' },
    },
  });
  return { shop, reported, products: shop.client(Products) };
}

async function entryKeyOf(prefix: string, id: string): Promise<string> {
  const keys = await admin.keys(`${prefix}k:*`);
  const key = keys.find((k) => k.includes(id));
  if (key === undefined) throw new Error(`no entry for ${id} among ${keys.join(', ')}`);
  return key;
}

/** What an attacker with access to Redis writes: the store's layout, a value of their choosing. */
function forged(value: string): string {
  return `${Date.now() + 60_000},${Date.now() + 60_000}|${value}`;
}

describe('cached values that fail their schema', () => {
  it('are a miss that is reported and deleted, never an error blamed on the caller', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const { reported, products } = await startShop({ auth: false, type: 'redis', prefix });
    expect(await products.get({ id: 'p-1' })).toEqual({ id: 'p-1', priceCents: 8_900 });
    const key = await entryKeyOf(prefix, 'p-1');
    await admin.set(key, forged('{"id":"p-1","priceCents":"free"}'), 'PX', 60_000);
    const before = loads;

    expect(await products.get({ id: 'p-1' })).toEqual({ id: 'p-1', priceCents: 8_900 });
    expect(loads).toBe(before + 1);
    expect(reported).toContainEqual({ code: 'CACHE_ENTRY_CORRUPT', reason: 'schema', operation: 'get' });
    await waitFor(async () => !(await admin.get(key))?.includes('free'), {
      message: 'the bad entry to be replaced',
    });
    expect(await products.get({ id: 'p-1' })).toEqual({ id: 'p-1', priceCents: 8_900 });
    expect(loads).toBe(before + 1);
  });

  it('are never served by a tiered store, nor kept in its L1', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const one = await startShop({ auth: false, type: 'tiered', prefix });
    await one.products.get({ id: 'p-2' });
    const key = await entryKeyOf(prefix, 'p-2');
    await admin.set(key, forged('{"id":"p-2","priceCents":-5}'), 'PX', 60_000);
    const two = await startShop({ auth: false, type: 'tiered', prefix });
    const store = two.shop.resolve(CacheTokens.Cache).store as TieredStore;
    const cacheKey = key.slice(`${prefix}k:`.length);
    expect(await two.products.get({ id: 'p-2' })).toEqual({ id: 'p-2', priceCents: 129_000 });
    expect(two.reported).toContainEqual({
      code: 'CACHE_ENTRY_CORRUPT',
      reason: 'schema',
      operation: 'get',
    });
    expect(store.l1.hit(cacheKey)).toEqual({ id: 'p-2', priceCents: 129_000 });
    await waitFor(async () => (await admin.get(key))?.endsWith('"priceCents":129000}') === true, {
      message: 'the bad entry to be replaced in L2',
    });
  });

  it('an entry that cannot be decoded is deleted and loaded again', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const { reported, products } = await startShop({ auth: false, type: 'redis', prefix });
    await products.get({ id: 'p-2' });
    const key = await entryKeyOf(prefix, 'p-2');
    await admin.set(key, forged('{"id":'), 'PX', 60_000);
    expect(await products.get({ id: 'p-2' })).toEqual({ id: 'p-2', priceCents: 129_000 });
    expect(reported.map((r) => r.code)).toContain('CACHE_ENTRY_CORRUPT');
    await waitFor(async () => (await admin.get(key))?.endsWith('"priceCents":129000}') === true, {
      message: 'the corrupt entry to be replaced',
    });
  });
});

describe('a cache used directly', () => {
  it('reads a corrupt entry as undefined, reports it and deletes it', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const codes: string[] = [];
    const cache = createCache({
      store: redisStore({ url, prefix, commandTimeout: '1s' }),
      onError: (error) => void codes.push(isCacheError(error) ? error.code : 'uncoded'),
    });
    await cache.connect();
    try {
      await admin.set(`${prefix}k:planted`, 'not an entry of this package', 'PX', 60_000);
      expect(await cache.get('planted')).toBeUndefined();
      expect(codes).toEqual(['CACHE_ENTRY_CORRUPT']);
      await waitFor(async () => (await admin.exists(`${prefix}k:planted`)) === 0, {
        message: 'the corrupt entry to be deleted',
      });
    } finally {
      await cache.close();
    }
  });
});

describe('signed cache entries (auth on)', () => {
  it('serve what this app wrote, and treat a forged schema-valid value as a miss', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const { reported, products } = await startShop({ auth: true, type: 'redis', prefix });
    await products.get({ id: 'p-2' });
    const key = await entryKeyOf(prefix, 'p-2');
    const stored = (await admin.get(key))!;
    expect(stored).toMatch(/^[A-Za-z0-9_-]{43}~\d+,\d+\|/);
    const before = loads;
    expect(await products.get({ id: 'p-2' })).toEqual({ id: 'p-2', priceCents: 129_000 });
    expect(loads).toBe(before);

    await admin.set(key, forged('{"id":"p-2","priceCents":1}'), 'PX', 60_000);
    expect(await products.get({ id: 'p-2' })).toEqual({ id: 'p-2', priceCents: 129_000 });
    expect(loads).toBe(before + 1);
    expect(reported).toContainEqual({ code: 'CACHE_ENTRY_CORRUPT', reason: 'signature', operation: 'get' });
  });

  it('refuse a signed entry moved to another key, and one signed with another secret', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const { reported, products } = await startShop({ auth: true, type: 'redis', prefix });
    await products.get({ id: 'p-1' });
    await products.get({ id: 'p-2' });
    const cheap = await entryKeyOf(prefix, 'p-1');
    const dear = await entryKeyOf(prefix, 'p-2');
    const cheapEntry = (await admin.get(cheap))!;
    await admin.set(dear, cheapEntry.replace('"p-1"', '"p-2"'), 'PX', 60_000);
    expect(await products.get({ id: 'p-2' })).toEqual({ id: 'p-2', priceCents: 129_000 });
    expect(reported.filter((r) => r.reason === 'signature')).toHaveLength(1);
    const other = `untrusted:${randomUUID()}:`;
    const unsigned = await startShop({ auth: false, type: 'redis', prefix: other });
    await unsigned.products.get({ id: 'p-1' });
    await unsigned.shop.stop();
    const signed = await startShop({ auth: true, type: 'redis', prefix: other });
    const before = loads;
    expect(await signed.products.get({ id: 'p-1' })).toEqual({ id: 'p-1', priceCents: 8_900 });
    expect(loads).toBe(before + 1);
    expect(signed.reported).toContainEqual({
      code: 'CACHE_ENTRY_CORRUPT',
      reason: 'signature',
      operation: 'get',
    });
  });
});

describe('the tiered store’s invalidation channel (auth on)', () => {
  it('ignores unsigned messages and honours those of a process holding the secret', async () => {
    const prefix = `untrusted:${randomUUID()}:`;
    const one = await startShop({ auth: true, type: 'tiered', prefix });
    const two = await startShop({ auth: true, type: 'tiered', prefix });
    const store = one.shop.resolve(CacheTokens.Cache).store as TieredStore;
    await one.products.get({ id: 'p-1' });
    const cacheKey = [...(await admin.keys(`${prefix}k:*`))][0]!.slice(`${prefix}k:`.length);
    expect(store.l1.hit(cacheKey)).toEqual({ id: 'p-1', priceCents: 8_900 });

    await admin.publish(store.channel, JSON.stringify({ from: 'attacker', clear: true }));
    await admin.publish(store.channel, JSON.stringify({ from: 'attacker', keys: [cacheKey] }));
    await waitFor(() => store.stats().invalidationsRefused === 2, { message: 'two refused messages' });
    expect(store.l1.hit(cacheKey)).toEqual({ id: 'p-1', priceCents: 8_900 });

    await two.shop.resolve(CacheTokens.Cache).delete(cacheKey);
    await waitFor(() => store.stats().invalidationsReceived >= 1, { message: 'the signed invalidation' });
    expect(store.l1.hit(cacheKey)).not.toEqual({ id: 'p-1', priceCents: 8_900 });
  });
});
