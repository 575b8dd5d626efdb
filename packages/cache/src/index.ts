/**
 * @blueprint/cache — `@Cached` / `@CacheInvalidate` and a `Cache` service over memory, Redis, memcached
 * and a two-tier store: single flight per key, stale-while-revalidate, cross-process invalidation, and a
 * breaker so a Redis outage degrades to the loader instead of failing calls.
 *
 * Pieces for other audiences live under subpaths: the stores under `@blueprint/cache/stores/<type>`
 * (`memory`, `redis`, `tiered`, `memcached`), writing a store under `@blueprint/cache/transport`, and
 * the store conformance suite under `@blueprint/cache/testing`.
 */
export {
  Cache,
  type CacheOperation,
  type CacheOptions,
  type CacheStats,
  createCache,
  type TagInvalidations,
} from './cache.js';
export {
  BUILT_IN_CACHE_STORES,
  type BuiltInCacheTopology,
  type CacheTopology,
  cacheSectionSchema,
  createStoreFromTopology,
  DEFAULT_CACHE_TOPOLOGY,
} from './config.js';
export { Cached, type CachedOptions, CacheInvalidate, type CacheInvalidateOptions } from './decorators.js';
export {
  CACHE_ERROR_CODES,
  CACHE_ERRORS,
  CacheDriverMissingError,
  CacheEntryCorruptError,
  type CacheError,
  type CacheErrorCode,
  CacheOptionsError,
  CacheUnavailableError,
  CacheValueError,
  CacheValueTooLargeError,
  isCacheError,
  isCacheUnavailableError,
} from './errors.js';
export { CACHE_METRICS, type CacheOutcome } from './instruments.js';
export { cacheKey } from './keys.js';
export { type CacheLinkOptions, cacheLink } from './link.js';
export { type CachePluginOptions, CacheTokens, cachePlugin } from './plugin.js';
export type { CacheSetOptions, GetOrSetOptions } from './policy.js';
