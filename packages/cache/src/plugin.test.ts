import {
  type CallContext,
  type ClientOf,
  defineService,
  type ImplementationOf,
  type InjectionToken,
  inject,
  injectable,
  service,
} from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startMonolith } from '../../../test/harness/monolith.js';
import type { Cache } from './cache.js';
import { Cached, CacheInvalidate } from './decorators.js';
import { cacheKey } from './keys.js';
import { CacheTokens, cachePlugin } from './plugin.js';

const Product = z.object({ id: z.string(), name: z.string(), price: z.bigint(), updatedAt: z.date() });
const Products = defineService('products', {
  get: { input: z.object({ id: z.string(), locale: z.string().optional() }), output: Product },
  rename: { input: z.object({ id: z.string(), name: z.string() }), output: z.void() },
  list: { input: z.object({}), output: z.array(Product) },
});

interface Row {
  name: string;
  reads: number;
}

@injectable()
class ProductsDb {
  readonly rows = new Map<string, Row>([
    ['p1', { name: 'Lamp', reads: 0 }],
    ['p2', { name: 'Desk', reads: 0 }],
  ]);
  lookups = 0;

  @Cached({ ttl: '1m', tags: (id: string) => [`product:${id}`] })
  async find(id: string, _withStock = false): Promise<Row | undefined> {
    this.lookups++;
    const row = this.rows.get(id);
    if (row) row.reads++;
    return row && { ...row };
  }

  @CacheInvalidate({ tags: (id: string) => [`product:${id}`] })
  async rename(id: string, name: string): Promise<void> {
    this.rows.get(id)!.name = name;
  }
}

const DbToken = Symbol('ProductsDb') as InjectionToken<ProductsDb>;

@injectable()
class ProductsService implements ImplementationOf<typeof Products> {
  listCalls = 0;
  constructor(@inject(DbToken) private readonly db: ProductsDb) {}

  @Cached({ ttl: '1m', tags: ['products'] })
  async get(input: { id: string; locale?: string | undefined }, _context?: CallContext) {
    const row = await this.db.find(input.id);
    return { id: input.id, name: row!.name, price: 1999n, updatedAt: new Date('2024-01-02T03:04:05Z') };
  }

  @CacheInvalidate({ tags: ['products'], keys: (input: { id: string }) => [`list:${input.id}`] })
  async rename(input: { id: string; name: string }) {
    await this.db.rename(input.id, input.name);
  }

  @Cached({ ttl: '1m', key: 'products:all', tags: ['products'] })
  async list() {
    this.listCalls++;
    return [...this.db.rows].map(([id, row]) => ({
      id,
      name: row.name,
      price: 1n,
      updatedAt: new Date(0),
    }));
  }
}

const app = {
  name: 'shop',
  services: [service(Products, ProductsService)],
  providers: [{ token: DbToken, useClass: ProductsDb }],
  plugins: [cachePlugin()],
};

const start = () => startMonolith(app, { topology: { cache: { type: 'memory', maxEntries: 100 } } });

describe('@Cached and @CacheInvalidate through createApp', () => {
  it('caches a local service method by its input, whatever the key order or call context', async () => {
    const shop = await start();
    const products: ClientOf<typeof Products> = shop.client(Products);
    const db = shop.resolve(DbToken);
    const first = await products.get({ id: 'p1', locale: 'en' });
    const second = await products.get({ locale: 'en', id: 'p1' }, { headers: { 'x-correlation-id': 'abc' } });
    expect(second).toEqual(first);
    expect(second.updatedAt).toBeInstanceOf(Date);
    expect(second.price).toBe(1999n);
    expect(db.lookups).toBe(1);
    const cache = shop.resolve(CacheTokens.Cache);
    expect(await cache.get(cacheKey('products', 'get', [{ id: 'p1', locale: 'en' }]))).toEqual(first);
  });

  it('caches a provider method by all its arguments and invalidates by tag functions', async () => {
    const shop = await start();
    const db = shop.resolve(DbToken);
    expect(await db.find('p2')).toEqual({ name: 'Desk', reads: 1 });
    expect(await db.find('p2')).toEqual({ name: 'Desk', reads: 1 });
    expect(await db.find('p2', true)).toEqual({ name: 'Desk', reads: 2 });
    await db.rename('p2', 'Table');
    expect(await db.find('p2')).toEqual({ name: 'Table', reads: 3 });
    expect(db.lookups).toBe(3);
  });

  it('a fixed key is shared, and @CacheInvalidate clears it after the method succeeds', async () => {
    const shop = await start();
    const products = shop.client(Products);
    await products.list({});
    expect((await products.list({})).map((p) => p.name)).toEqual(['Lamp', 'Desk']);
    await products.get({ id: 'p1' });
    await products.rename({ id: 'p1', name: 'Lantern' });
    expect((await products.list({})).map((p) => p.name)).toEqual(['Lantern', 'Desk']);
    expect((await products.get({ id: 'p1' })).name).toBe('Lantern');
    const cache: Cache = shop.resolve(CacheTokens.Cache);
    expect(cache.stats()).toMatchObject({ loaderCalls: 6 });
  });

  it('leaves classes alone in an app without the plugin', async () => {
    const shop = await startMonolith({
      name: 'plain',
      services: [service(Products, ProductsService)],
      providers: [{ token: DbToken, useClass: ProductsDb }],
    });
    const db = shop.resolve(DbToken);
    await db.find('p1');
    await db.find('p1');
    expect(db.lookups).toBe(2);
  });

  it('uses a memory store when the topology has no cache section, and reports no Redis check', async () => {
    const shop = await startMonolith(app);
    expect(shop.resolve(CacheTokens.Cache).store.type).toBe('memory');
    expect(await shop.readiness()).toEqual({ ok: true, checks: {} });
  });
});
