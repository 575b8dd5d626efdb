/**
 * `@Cached` and `@CacheInvalidate`: method decorators that only record options on the class. The
 * cache plugin's interceptor reads them when the app creates the instance (service implementations and
 * providers), so a class used without the plugin is left untouched.
 */
import { setMethodMetadata } from '@blueprint/core';
import { type CachePolicy, toPolicy } from './cache.js';
import { CacheError } from './errors.js';
import type { Duration } from './internal/options.js';

/** Options of {@link Cached}. */
export interface CachedOptions {
  /** How long a result is fresh: ms or `"30s"`, `"5m"`. Required. */
  readonly ttl: Duration;
  /**
   * The key: a fixed string, or a function of the method's arguments. Default:
   * `<service or class>:<method>:<stable text of the arguments>` (see `cacheKey`); for contract methods
   * only the input counts, not the call context.
   */
  readonly key?: string | ((...args: any[]) => string) | undefined;
  /** Tags of the cached result: a list, or a function of the method's arguments. Default: none. */
  readonly tags?: readonly string[] | ((...args: any[]) => readonly string[]) | undefined;
  /** How long past `ttl` a result may be served when the refresh fails or is slow. Default: 0. */
  readonly staleFor?: Duration | undefined;
  /** How long a caller waits for the refresh of a stale result before getting it. Default: 0. */
  readonly refreshTimeout?: Duration | undefined;
  /** Take the store's cross-process lock on a miss (stores configured with `lock`). Default: true. */
  readonly lock?: boolean | undefined;
}

/** Options of {@link CacheInvalidate}. At least one of `keys` and `tags` is required. */
export interface CacheInvalidateOptions {
  /** Keys to delete: a list, or a function of the method's arguments. */
  readonly keys?: readonly string[] | ((...args: any[]) => readonly string[]) | undefined;
  /** Tags to invalidate: a list, or a function of the method's arguments. */
  readonly tags?: readonly string[] | ((...args: any[]) => readonly string[]) | undefined;
}

/** What `@Cached` records. @internal */
export interface CachedMetadata {
  readonly policy: CachePolicy;
  readonly key: CachedOptions['key'];
  readonly tags: CachedOptions['tags'];
}

/** Metadata key of `@Cached`. @internal */
export const CACHED_METADATA = 'cache:cached';
/** Metadata key of `@CacheInvalidate`. @internal */
export const INVALIDATE_METADATA = 'cache:invalidate';

/**
 * Caches the results of an async method. The app's cache plugin applies it to service
 * implementations and providers; the method must return a promise.
 *
 * @example
 * @Cached({ ttl: '5m', tags: ['products'], staleFor: '1h' })
 * async get(input: { id: string }) { return this.db.find(input.id); }
 */
export function Cached(options: CachedOptions): MethodDecorator {
  const policy = toPolicy({ ...options, tags: Array.isArray(options.tags) ? options.tags : undefined });
  if (options.key !== undefined && typeof options.key !== 'string' && typeof options.key !== 'function') {
    throw new CacheError(
      'CACHE_OPTIONS_INVALID',
      '@Cached key must be a string or a function of the arguments',
    );
  }
  const metadata: CachedMetadata = { policy, key: options.key, tags: options.tags };
  return (prototype, method) => setMethodMetadata(prototype, method, CACHED_METADATA, metadata);
}

/**
 * After the method succeeds, deletes `keys` and invalidates `tags` (in every process, for a tiered
 * store), then returns the method's result.
 *
 * @example
 * @CacheInvalidate({ tags: ['products'], keys: (input) => [`product:${input.id}`] })
 * async update(input: { id: string; price: number }) { ... }
 */
export function CacheInvalidate(options: CacheInvalidateOptions): MethodDecorator {
  if (options.keys === undefined && options.tags === undefined) {
    throw new CacheError(
      'CACHE_OPTIONS_INVALID',
      '@CacheInvalidate needs keys or tags, e.g. @CacheInvalidate({ tags: ["products"] })',
    );
  }
  return (prototype, method) => setMethodMetadata(prototype, method, INVALIDATE_METADATA, options);
}
