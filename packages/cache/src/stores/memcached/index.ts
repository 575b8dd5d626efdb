/**
 * @blueprint/cache/stores/memcached — the `memcached` store: entries on one or more memcached servers
 * spread by consistent hashing, one breaker per server; with `l1`, a tiered store whose L1 invalidations
 * travel on a Redis channel. Needs `memjs` (an optional peer dependency, imported when the store
 * connects), and `ioredis` with `l1`.
 *
 * @example
 * "cache": { "type": "memcached", "servers": "${MEMCACHED_SERVERS:-127.0.0.1:11211}", "commandTimeout": "50ms" }
 */
import type { TieredStore } from '../tiered/tiered-store.js';
import { buildMemcachedStore } from './build.js';
import type { MemcachedSignerOption, MemcachedStore } from './memcached-store.js';
import { type MemcachedStoreOptions, parseMemcachedOptions } from './options.js';
import type { MemcachedTier } from './tiered.js';

export type { BreakerState } from '../../internal/breaker.js';
export { memcachedStoreDriver } from './driver.js';
export {
  type MemcachedSignerOption,
  MemcachedStore,
  type MemcachedUnavailableReason,
} from './memcached-store.js';
export { type MemcachedStoreOptions, memcachedStoreSchema } from './options.js';
export { MemcachedTier } from './tiered.js';
/**
 * Creates a `memcached` store; with `l1`, a tiered store over memcached (L1 memory in each process,
 * invalidations on the Redis channel of `invalidation`). Nothing connects until `connect()`. Throws
 * `CACHE_OPTIONS_INVALID` naming a bad option.
 *
 * @example
 * const cache = createCache({ store: memcachedStore({ servers: ['127.0.0.1:11211'], prefix: 'shop:cache:' }) });
 * await cache.connect();
 */
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption & { readonly l1?: undefined },
): MemcachedStore;
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption,
): MemcachedStore | TieredStore<MemcachedTier>;
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption,
): MemcachedStore | TieredStore<MemcachedTier> {
  const { signer, ...rest } = options;
  return buildMemcachedStore(parseMemcachedOptions(rest, 'memcachedStore(options)'), signer);
}
