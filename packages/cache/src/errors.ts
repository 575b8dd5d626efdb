/**
 * Coded errors of `@blueprint/cache`, one class per code. Each has a stable `code`, a message that names
 * the bad value and the fix, JSON-safe `details` and the `cause`. Type guards compare `code`, never
 * `instanceof`, so two installed copies of this package still agree.
 */
import {
  BlueprintError,
  type CodedErrorClass,
  defineError,
  errorCodesOf,
  errorGuard,
  isBlueprintError,
} from '@blueprint/core';

const cacheError = <Code extends string>(code: Code, status: number, name: string) =>
  defineError(code, status, { name, base: BlueprintError }) as CodedErrorClass & { readonly code: Code };

/** An option is invalid: a ttl, a size, a prefix, a store configuration (`CACHE_OPTIONS_INVALID`, 500). */
export const CacheOptionsError = cacheError('CACHE_OPTIONS_INVALID', 500, 'CacheOptionsError');
/** A value cannot be cached: the codec cannot encode it (a cycle, the reserved `$bp` key) (`CACHE_VALUE_INVALID`, 500). */
export const CacheValueError = cacheError('CACHE_VALUE_INVALID', 500, 'CacheValueError');
/**
 * The store's server cannot be used now: unreachable, a command timed out, or the breaker is open
 * (`CACHE_STORE_UNAVAILABLE`, 503). `details.reason` says which.
 */
export const CacheUnavailableError = cacheError('CACHE_STORE_UNAVAILABLE', 503, 'CacheUnavailableError');
/** An entry read from the store's server cannot be decoded; it is treated as a miss (`CACHE_ENTRY_CORRUPT`, 500). */
export const CacheEntryCorruptError = cacheError('CACHE_ENTRY_CORRUPT', 500, 'CacheEntryCorruptError');
/** A store was selected whose client library (`ioredis`, `memjs`) is not installed (`CACHE_DRIVER_MISSING`, 500). */
export const CacheDriverMissingError = cacheError('CACHE_DRIVER_MISSING', 500, 'CacheDriverMissingError');
/**
 * A value is larger than the store's server takes (memcached's item size limit, 1 MB by default): it is
 * not stored, and an older entry of its key is removed (`CACHE_VALUE_TOO_LARGE`, 500). `details.key`,
 * `details.bytes`, `details.limit`.
 */
export const CacheValueTooLargeError = cacheError('CACHE_VALUE_TOO_LARGE', 500, 'CacheValueTooLargeError');

/** The error table of this package. */
export const CACHE_ERRORS = Object.freeze([
  CacheOptionsError,
  CacheValueError,
  CacheUnavailableError,
  CacheEntryCorruptError,
  CacheDriverMissingError,
  CacheValueTooLargeError,
] as const);

/** Every error code of this package, with its HTTP status. Each one is documented in the README. */
export const CACHE_ERROR_CODES = errorCodesOf(CACHE_ERRORS);

/** A code of {@link CACHE_ERRORS}. */
export type CacheErrorCode = (typeof CACHE_ERRORS)[number]['code'];

/** An error of this package: a coded Blueprint error whose `code` is a {@link CacheErrorCode}. */
export type CacheError = BlueprintError & { readonly code: CacheErrorCode };

/**
 * True when `error` is a cache error (from any installed copy), optionally with this `code`.
 *
 * @example
 * if (isCacheError(error, 'CACHE_STORE_UNAVAILABLE')) metrics.redisDown.inc();
 */
export function isCacheError(error: unknown, code?: CacheErrorCode): error is CacheError {
  if (!isBlueprintError(error)) return false;
  return code === undefined ? Object.hasOwn(CACHE_ERROR_CODES, error.code) : error.code === code;
}

/** True for `CACHE_STORE_UNAVAILABLE`: the store's server is down, slow or behind an open breaker. */
export const isCacheUnavailableError = errorGuard(CacheUnavailableError) as (
  error: unknown,
) => error is CacheError;
