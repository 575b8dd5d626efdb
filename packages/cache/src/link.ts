/**
 * The cache's link in the call chain (stage `interceptor`): it applies `@Cached` and
 * `@CacheInvalidate` to the methods of hosted service implementations and class providers (the
 * `method` side of the chain), so they apply however the method is reached. The cache plugin adds it;
 * outside an app, decorate an object with core's `applyMethodLinks`.
 *
 * On a contract method, a value read from the store (another process's entry) must match the method's
 * output schema: one that does not is reported, deleted and treated as a miss, so a bad entry is never
 * served. Copies in this process's memory (the memory store, a tiered store's L1) were loaded here or
 * passed this check when they were read.
 */
import type { Telemetry } from '@blueprint/core';
import { getMethodMetadata, type Invocation, type Link } from '@blueprint/core/plugin';
import type { Cache } from './cache.js';
import {
  CACHED_METADATA,
  type CachedMetadata,
  type CacheInvalidateOptions,
  INVALIDATE_METADATA,
} from './decorators.js';
import { CacheInstruments, type MethodInstruments } from './instruments.js';
import { KeyMemo } from './internal/key-memo.js';
import { MISS } from './stores/memory/memory-store.js';

/** Options of {@link cacheLink}. */
export interface CacheLinkOptions {
  /**
   * Records `blueprint_cache_requests_total`, `blueprint_cache_loads_total` and
   * `blueprint_cache_load_duration_seconds` per decorated method, and a `cache load` span around each
   * loader run. The cache plugin passes the process's telemetry. Default: none (nothing recorded).
   */
  readonly telemetry?: Telemetry | undefined;
}

/**
 * Returns the link that applies the cache decorators of an instance's methods through `cache`.
 *
 * @example
 * applyMethodLinks(repository, [cacheLink(cache)], { process: 'main' });
 */
export function cacheLink(cache: Cache, options: CacheLinkOptions = {}): Link {
  const instruments = options.telemetry === undefined ? undefined : new CacheInstruments(options.telemetry);
  const recording = instruments?.active === true ? instruments : undefined;
  return {
    name: 'cache',
    stage: 'interceptor',
    wrap(target) {
      const instance = target.instance;
      if (target.entry !== 'method' || instance === undefined) return undefined;
      const cached = getMethodMetadata<CachedMetadata>(instance, target.method, CACHED_METADATA);
      const invalidate = getMethodMetadata<CacheInvalidateOptions>(
        instance,
        target.method,
        INVALIDATE_METADATA,
      );
      if (cached === undefined && invalidate === undefined) return undefined;
      const scope = target.contract?.name ?? target.className;
      const inputOnly = target.definition !== undefined;
      const methodInstruments = cached === undefined ? undefined : recording?.forMethod(scope, target.method);
      const output = target.definition?.output;
      const accepts = output === undefined ? undefined : (value: unknown) => output.safeParse(value).success;
      return (next) => {
        let invocation = next;
        if (cached !== undefined) {
          invocation = cachedInvocation(
            cache,
            cached,
            `${scope}:${target.method}:`,
            inputOnly,
            invocation,
            methodInstruments,
            accepts,
          );
        }
        if (invalidate !== undefined) invocation = invalidatingInvocation(cache, invalidate, invocation);
        return invocation;
      };
    },
  };
}

function cachedInvocation(
  cache: Cache,
  metadata: CachedMetadata,
  prefix: string,
  inputOnly: boolean,
  next: Invocation,
  instruments: MethodInstruments | undefined,
  accepts: ((value: unknown) => boolean) | undefined,
): Invocation {
  const { policy, key, tags } = metadata;
  const tagsFor = (args: unknown[]) => (typeof tags === 'function' ? () => tags(...args) : undefined);
  const keys = new KeyMemo(prefix);
  const keyOf: (args: unknown[]) => string =
    typeof key === 'string'
      ? () => key
      : typeof key === 'function'
        ? (args) => key(...args)
        : (args) => keys.of(args.length === 1 ? args[0] : args);
  const loaderOf =
    instruments === undefined
      ? (args: unknown[]) => () => next(...args)
      : (args: unknown[]) => () => instruments.load(() => next(...args));
  /**
   * A hit in this process's memory answers at once, with no promise but the result's; a contract method
   * passes its two arguments apart (`args` undefined), so a hit allocates no argument list either.
   */
  const answer = (resolved: string, args: unknown[] | undefined, input?: unknown, context?: unknown) => {
    const value = cache.tryHit(resolved);
    if (value !== MISS) {
      if (instruments !== undefined) instruments.hit++;
      return Promise.resolve(value);
    }
    const callArgs = args ?? [input, context];
    return cache.miss(resolved, loaderOf(callArgs), policy, tagsFor(callArgs), instruments, accepts);
  };
  if (key === undefined && inputOnly) {
    // A contract method: only the input makes the key, not the call context.
    return (input, context) => {
      let resolved: string;
      try {
        resolved = keys.of(input);
      } catch (error) {
        return Promise.reject(error);
      }
      return answer(resolved, undefined, input, context);
    };
  }
  return (...args) => {
    let resolved: string;
    try {
      resolved = keyOf(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return answer(resolved, args);
  };
}

function invalidatingInvocation(cache: Cache, options: CacheInvalidateOptions, next: Invocation): Invocation {
  const { keys, tags } = options;
  return async (...args) => {
    const result = await next(...args);
    const keyList = typeof keys === 'function' ? keys(...args) : keys;
    const tagList = typeof tags === 'function' ? tags(...args) : tags;
    await Promise.all([
      keyList !== undefined && keyList.length > 0 ? cache.delete(keyList) : undefined,
      tagList !== undefined && tagList.length > 0 ? cache.invalidateTags(tagList) : undefined,
    ]);
    return result;
  };
}
