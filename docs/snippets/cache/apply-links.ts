import assert from 'node:assert/strict';
import * as cachePackage from '@blueprint/cache';
import { db } from './db.js';

class ProductsRepository {
  @cachePackage.Cached({ ttl: '1m' })
  async find(id: string) {
    return db.products.find(id);
  }
}

// #region apply
import { cacheLink, createCache } from '@blueprint/cache';
import { applyMethodLinks } from '@blueprint/core/plugin';

const repository = new ProductsRepository();
applyMethodLinks(repository, [cacheLink(createCache())], { process: 'main' });
// #endregion apply

const reads = db.reads.products;
await repository.find('p1');
await repository.find('p1');
assert.equal(db.reads.products - reads, 1);
