/**
 * The `redis` store's descriptor, apart from its code: `./redis-store.js` is imported only when a
 * topology selects `redis`.
 */
import { sharedStoreDriver } from '../../transport/driver.js';
import { redisStoreSchema } from './options.js';

/**
 * The `redis` store's descriptor. In an app the key prefix defaults to `"<app name>:cache:"`, and with
 * auth on its entries are signed.
 */
export const redisStoreDriver = sharedStoreDriver(
  'redis',
  redisStoreSchema,
  async () => (await import('./redis-store.js')).RedisStore,
);
