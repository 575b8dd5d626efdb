/**
 * @blueprint/cache — `@Cached` / `@CacheInvalidate` and a `Cache` service over memory, Redis and a
 * two-tier store: single flight per key, stale-while-revalidate, cross-process invalidation, and a
 * breaker so a Redis outage degrades to the loader instead of failing calls.
 */
export {
  Cache,
  type CacheOperation,
  type CacheOptions,
  type CacheSetOptions,
  type CacheStats,
  createCache,
  type GetOrSetOptions,
} from './cache.js';
export {
  type CacheTopology,
  cacheTopologySchema,
  createStoreFromTopology,
  DEFAULT_CACHE_TOPOLOGY,
  memoryCacheSchema,
  redisCacheSchema,
  tieredCacheSchema,
} from './config.js';
export { Cached, type CachedOptions, CacheInvalidate, type CacheInvalidateOptions } from './decorators.js';
export {
  CACHE_ERROR_CODES,
  CacheError,
  type CacheErrorCode,
  isCacheError,
  isCacheUnavailableError,
  type UnavailableReason,
} from './errors.js';
export { CACHE_METRICS, type CacheOutcome } from './instruments.js';
export { type CacheInterceptorOptions, cacheInterceptor } from './interceptor.js';
export type { BreakerState } from './internal/breaker.js';
export type { Duration } from './internal/options.js';
export { cacheKey } from './keys.js';
export { type CachePluginOptions, CacheToken, cachePlugin } from './plugin.js';
export type { CacheEntry, CacheStore, LockLease, MaybePromise, StoreSetOptions } from './store.js';
export { MemoryStore, type MemoryStoreOptions, memoryStore } from './stores/memory-store.js';
export {
  type RedisBreakerOptions,
  type RedisLockOptions,
  RedisStore,
  type RedisStoreOptions,
  redisStore,
} from './stores/redis-store.js';
export {
  type L1ClearReason,
  type TieredL1Options,
  TieredStore,
  type TieredStoreOptions,
  type TieredStoreStats,
  tieredStore,
} from './stores/tiered-store.js';
