/**
 * @blueprint/cache/stores/redis — the `redis` store: entries in Redis only, behind a breaker. Needs
 * `ioredis` (an optional peer dependency, imported when the store connects).
 *
 * @example
 * "cache": { "type": "redis", "url": "${REDIS_URL:-redis://127.0.0.1:6379}", "commandTimeout": "50ms" }
 */
import type { RedisStoreOptions } from './options.js';
import { RedisStore } from './redis-store.js';

export type { BreakerState } from '../../internal/breaker.js';
export { redisStoreDriver } from './driver.js';
export {
  type RedisBreakerOptions,
  type RedisClientOption,
  type RedisLockOptions,
  type RedisStoreOptions,
  redisStoreSchema,
} from './options.js';
export { RedisStore } from './redis-store.js';

/**
 * Creates a `redis` store. Nothing connects until `connect()` (the plugin calls it on start). Throws
 * `CACHE_OPTIONS_INVALID` naming a bad option.
 *
 * @example
 * const cache = createCache({ store: redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'shop:cache:' }) });
 * await cache.connect();
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
