import assert from 'node:assert/strict';
import { db } from './db.js';

const id = 'u1';
const reads = db.reads.users;

// #region code
import { createCache } from '@blueprint/cache';
import { redisStore } from '@blueprint/cache/stores/redis';

const cache = createCache({
  store: redisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: 'shop:cache:' }),
});
await cache.connect();
const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id), { ttl: '1m', tags: [`user:${id}`] });
await cache.invalidateTags(`user:${id}`);
await cache.close();
// #endregion code

assert.deepEqual(user, { id: 'u1', name: 'Ada' });
assert.equal(db.reads.users - reads, 1);
