/**
 * Coded errors of `@blueprint/cache`. Each has a stable `code`, a message that names the bad value and
 * the fix, JSON-safe `details` and the `cause`. Type guards compare `code`, never `instanceof`.
 */
import { BlueprintError, type ErrorOptions, hasErrorCode, isBlueprintError } from '@blueprint/core';

/** Every error code of this package, with its HTTP status. Each one is documented in the README. */
export const CACHE_ERROR_CODES = {
  /** An option is invalid: a ttl, a size, a prefix, a store configuration. */
  CACHE_OPTIONS_INVALID: 500,
  /** A value cannot be cached: the codec cannot encode it (a cycle, the reserved `$bp` key). */
  CACHE_VALUE_INVALID: 500,
  /** Redis cannot be used now: unreachable, a command timed out, or the breaker is open. */
  CACHE_STORE_UNAVAILABLE: 503,
  /** An entry read from Redis cannot be decoded; it is treated as a miss. */
  CACHE_ENTRY_CORRUPT: 500,
  /** A redis or tiered store was selected but `ioredis` is not installed. */
  CACHE_DRIVER_MISSING: 500,
} as const;

/** A code of {@link CACHE_ERROR_CODES}. */
export type CacheErrorCode = keyof typeof CACHE_ERROR_CODES;

/**
 * The error class of this package; `code` tells which of {@link CACHE_ERROR_CODES} it is.
 *
 * @example
 * if (isCacheError(error, 'CACHE_STORE_UNAVAILABLE')) metrics.redisDown.inc();
 */
export class CacheError extends BlueprintError {
  declare readonly code: CacheErrorCode;
  constructor(code: CacheErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, { ...options, status: CACHE_ERROR_CODES[code] });
  }
}

/** Why a store was unavailable, in `details.reason` of `CACHE_STORE_UNAVAILABLE`. */
export type UnavailableReason = 'timeout' | 'offline' | 'breaker-open' | 'error';

/** True when `error` is a cache error (from any installed copy), optionally with this `code`. */
export function isCacheError(error: unknown, code?: CacheErrorCode): error is CacheError {
  if (code !== undefined) return hasErrorCode(error, code);
  return isBlueprintError(error) && Object.hasOwn(CACHE_ERROR_CODES, error.code);
}

/** True for `CACHE_STORE_UNAVAILABLE`: Redis is down, slow or behind an open breaker. */
export const isCacheUnavailableError = (error: unknown): error is CacheError =>
  hasErrorCode(error, 'CACHE_STORE_UNAVAILABLE');
