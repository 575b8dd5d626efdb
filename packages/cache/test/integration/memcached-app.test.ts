// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topology files spell environment references as ${VAR}
import { randomUUID } from 'node:crypto';
import { Cached, CacheInvalidate, cachePlugin, createCache } from '@blueprint/cache';
import { memcachedStore } from '@blueprint/cache/stores/memcached';
import { defineService, type ImplementationOf, injectable, service } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memcachedForFile } from '../../../../test/harness/memcached-for-file.js';
import { startMonolith } from '../../../../test/harness/monolith.js';

const Stock = defineService('stock', {
  get: { input: z.object({ sku: z.string() }), output: z.object({ sku: z.string(), count: z.bigint() }) },
  set: { input: z.object({ sku: z.string(), count: z.bigint() }), output: z.void() },
});

/** Stands in for a database shared by the replicas. */
const db = new Map<string, bigint>([['a', 5n]]);
let reads = 0;

@injectable()
class StockService implements ImplementationOf<typeof Stock> {
  @Cached({ ttl: '1m', tags: (input: { sku: string }) => [`sku:${input.sku}`] })
  async get(input: { sku: string }) {
    reads++;
    return { sku: input.sku, count: db.get(input.sku) ?? 0n };
  }

  @CacheInvalidate({ tags: (input: { sku: string }) => [`sku:${input.sku}`] })
  async set(input: { sku: string; count: bigint }) {
    db.set(input.sku, input.count);
  }
}

const app = { name: 'stock', services: [service(Stock, StockService)], plugins: [cachePlugin()] };

const [a, b] = await memcachedForFile(2);

describe('@Cached through createApp with the memcached store', () => {
  it('shares entries between two replicas, invalidates by tag, and reports memcached in readiness', async () => {
    const cache = {
      type: 'memcached',
      servers: '${MEMCACHED_SERVERS}',
      prefix: `test:${randomUUID().slice(0, 8)}:`,
    };
    const replica = { topology: { cache }, env: { MEMCACHED_SERVERS: `${a.address},${b.address}` } };
    const one = await startMonolith(app, replica);
    const two = await startMonolith(app, replica);
    expect(await one.readiness()).toMatchObject({ ok: true, checks: { 'memcached:cache': { ok: true } } });
    expect(await one.client(Stock).get({ sku: 'a' })).toEqual({ sku: 'a', count: 5n });
    expect(await two.client(Stock).get({ sku: 'a' })).toEqual({ sku: 'a', count: 5n });
    expect(reads).toBe(1);
    await two.client(Stock).set({ sku: 'a', count: 7n });
    expect((await one.client(Stock).get({ sku: 'a' })).count).toBe(7n);
    expect(reads).toBe(2);
  });
});

describe('stampede protection across processes with the memcached lock', () => {
  it('runs the loader once for concurrent misses in two processes', async () => {
    const prefix = `test:${randomUUID().slice(0, 8)}:`;
    const make = () =>
      createCache({
        store: memcachedStore({
          servers: [a.address],
          prefix,
          commandTimeout: '1s',
          lock: { ttl: '2s', wait: '2s' },
        }),
      });
    const caches = [make(), make()];
    await Promise.all(caches.map((cache) => cache.connect()));
    let loads = 0;
    const loader = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'value';
    };
    try {
      const values = await Promise.all(
        caches.flatMap((cache) =>
          Array.from({ length: 20 }, () => cache.getOrSet('cold', loader, { ttl: '1m' })),
        ),
      );
      expect(new Set(values)).toEqual(new Set(['value']));
      expect(loads).toBe(1);
    } finally {
      await caches[0]!.clear();
      await Promise.all(caches.map((cache) => cache.close()));
    }
  });
});
