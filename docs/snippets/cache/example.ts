// #region example
import { Cached, CacheInvalidate, cachePlugin } from '@blueprint/cache';
import { defineApp, type ImplementationOf, injectable, service } from '@blueprint/core';
import { db } from './db.js';
import { Products } from './products-contract.js';

@injectable()
class ProductsService implements ImplementationOf<typeof Products> {
  @Cached({ ttl: '5m', tags: ['products'], staleFor: '1h' })
  async get(input: { id: string }) {
    return db.products.find(input.id);
  }

  @CacheInvalidate({ tags: ['products'] })
  async update(input: { id: string; price: number }) {
    await db.products.update(input);
  }
}

export const app = defineApp({
  name: 'shop',
  services: [service(Products, ProductsService)],
  plugins: [cachePlugin()],
});

// #endregion example

import assert from 'node:assert/strict';
import * as blueprint from '@blueprint/core';

// With the memory store: the second read is a hit, an update invalidates the tag.
const running = await blueprint.createApp(app, {
  topology: { app: 'src/app.ts', cache: { type: 'memory' }, processes: { main: { services: ['products'] } } },
});
await running.start();
const products = running.client(Products);
const before = db.reads.products;
assert.equal((await products.get({ id: 'p1' })).price, 49);
assert.equal((await products.get({ id: 'p1' })).price, 49);
assert.equal(db.reads.products - before, 1);
await products.update({ id: 'p1', price: 39 });
assert.equal((await products.get({ id: 'p1' })).price, 39);
assert.equal(db.reads.products - before, 2);
await running.stop();
