// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topology files spell environment references as ${VAR}
import { randomUUID } from 'node:crypto';
import { Cached, CacheInvalidate, CacheTokens, cachePlugin } from '@blueprint/cache';
import type { TieredStore } from '@blueprint/cache/stores/tiered';
import {
  defineService,
  type ImplementationOf,
  type InjectionToken,
  inject,
  injectable,
  service,
} from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, it, inject as provided } from 'vitest';
import { z } from 'zod';
import { startMonolith } from '../../../../test/harness/monolith.js';

const Prices = defineService('prices', {
  get: {
    input: z.object({ sku: z.string() }),
    output: z.object({ sku: z.string(), cents: z.bigint(), at: z.date() }),
  },
  set: { input: z.object({ sku: z.string(), cents: z.bigint() }), output: z.void() },
});

/** Stands in for a database shared by the replicas. */
const db = new Map<string, bigint>([['a', 100n]]);

@injectable()
class PriceRepository {
  reads = 0;
  @Cached({ ttl: '1m', key: (sku: string) => `price-row:${sku}`, tags: ['prices'] })
  async row(sku: string) {
    this.reads++;
    return { sku, cents: db.get(sku) ?? 0n, at: new Date('2025-01-01T00:00:00Z') };
  }
}

const Repo = Symbol('PriceRepository') as InjectionToken<PriceRepository>;

@injectable()
class PricesService implements ImplementationOf<typeof Prices> {
  constructor(@inject(Repo) private readonly repo: PriceRepository) {}

  @Cached({ ttl: '1m', tags: ['prices'] })
  async get(input: { sku: string }) {
    return this.repo.row(input.sku);
  }

  @CacheInvalidate({ tags: ['prices'] })
  async set(input: { sku: string; cents: bigint }) {
    db.set(input.sku, input.cents);
  }
}

const app = {
  name: 'pricing',
  services: [service(Prices, PricesService)],
  providers: [{ token: Repo, useClass: PriceRepository }],
  plugins: [cachePlugin()],
};

describe('@Cached through createApp with a tiered store', () => {
  it('keeps two replicas consistent and reports Redis in readiness', async () => {
    const cache = {
      type: 'tiered',
      url: '${REDIS_URL}',
      prefix: `test:${randomUUID()}:`,
      commandTimeout: '1s',
      l1: { maxEntries: 100 },
    };
    const replica = { topology: { cache }, env: { REDIS_URL: provided('redisUrl') } };
    const one = await startMonolith(app, replica);
    const two = await startMonolith(app, replica);
    expect(await one.readiness()).toMatchObject({ ok: true, checks: { 'redis:cache': { ok: true } } });
    const first = await one.client(Prices).get({ sku: 'a' });
    expect(first).toEqual({ sku: 'a', cents: 100n, at: new Date('2025-01-01T00:00:00Z') });
    const storeTwo = two.resolve(CacheTokens.Cache).store as TieredStore;
    await waitFor(() => storeTwo.stats().invalidationsReceived === 2, {
      message: "replica one's writes announced",
    });
    expect(await two.client(Prices).get({ sku: 'a' })).toEqual(first);
    expect(two.resolve(Repo).reads).toBe(0);
    expect(storeTwo.l1.has('prices:get:{"sku":"a"}')).toBe(true);

    await one.client(Prices).set({ sku: 'a', cents: 250n });
    await waitFor(() => !storeTwo.l1.has('prices:get:{"sku":"a"}'), {
      message: 'replica two to drop its copy',
    });
    expect((await two.client(Prices).get({ sku: 'a' })).cents).toBe(250n);
    expect((await one.client(Prices).get({ sku: 'a' })).cents).toBe(250n);
  });
});
