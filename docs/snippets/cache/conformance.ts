// #region suite
import { randomUUID } from 'node:crypto';
import { redisStore } from '@blueprint/cache/stores/redis';
import { describeCacheStoreConformance } from '@blueprint/cache/testing';

describeCacheStoreConformance('redis', {
  create: () => redisStore({ url: process.env.REDIS_URL, prefix: `test:${randomUUID()}:` }),
});
// #endregion suite
