// #region forms
import { Cached, CacheInvalidate } from '@blueprint/cache';
import { db } from './db.js';

class ProductsService {
  @Cached({ ttl: '5m' }) // key: products:get:{"id":"p1"}
  async get(input: { id: string }) {
    return db.products.find(input.id);
  }

  @Cached({ ttl: '5m', key: (input) => `product:${input.id}` }) // your key
  async byId(input: { id: string }) {
    return db.products.find(input.id);
  }

  @Cached({ ttl: '5m', key: 'products:all', tags: ['products'] }) // one shared entry
  async list() {
    return [await db.products.find('p1')];
  }

  @Cached({ ttl: '5m', tags: (input) => [`product:${input.id}`] })
  async details(input: { id: string }) {
    return db.products.find(input.id);
  }

  @CacheInvalidate({ tags: ['products'], keys: (input) => [`product:${input.id}`] })
  async update(input: { id: string; price: number }) {
    await db.products.update(input);
  }
}

// #endregion forms

import assert from 'node:assert/strict';
import { cacheKey, cacheLink, createCache } from '@blueprint/cache';
import { applyMethodLinks } from '@blueprint/core/plugin';
import { Products } from './products-contract.js';

// The keys are the ones the comments name (scope "products", as for the products service).
const cache = createCache();
const service = new ProductsService();
applyMethodLinks(service, [cacheLink(cache)], { process: 'main', contract: Products });
await service.get({ id: 'p1' });
await service.byId({ id: 'p1' });
await service.list();
assert.notEqual(await cache.get(cacheKey('products', 'get', [{ id: 'p1' }])), undefined);
assert.equal(cacheKey('products', 'get', [{ id: 'p1' }]), 'products:get:{"id":"p1"}');
assert.notEqual(await cache.get('product:p1'), undefined);
assert.notEqual(await cache.get('products:all'), undefined);
await service.update({ id: 'p1', price: 49 });
assert.equal(await cache.get('product:p1'), undefined);
assert.equal(await cache.get('products:all'), undefined);
await cache.close();
