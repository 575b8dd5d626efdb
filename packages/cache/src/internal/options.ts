/** Option parsing shared by the cache and its stores: durations and counts with coded errors. */
import { jsonCodec, parseDuration } from '@blueprint/core';
import { CacheError } from '../errors.js';

/** A duration: milliseconds, or a string with a unit (`"250ms"`, `"30s"`, `"5m"`, `"1h"`). */
export type Duration = number | string;

/** Parses a duration option to ms; throws `CACHE_OPTIONS_INVALID` naming the option. */
export function toMs(value: Duration, option: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new CacheError(
      'CACHE_OPTIONS_INVALID',
      `invalid ${option} ${JSON.stringify(value)}: write milliseconds as a number or a string like "250ms", "30s", "5m"`,
      { details: { option, value } },
    );
  }
  return ms;
}

/** Checks a whole-number option is at least `min`; throws `CACHE_OPTIONS_INVALID` naming it. */
export function toCount(value: number, option: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new CacheError(
      'CACHE_OPTIONS_INVALID',
      `invalid ${option} ${JSON.stringify(value)}: use a whole number >= ${min}`,
      { details: { option, value } },
    );
  }
  return value;
}

/** Encodes a value with the codec; throws `CACHE_VALUE_INVALID` naming the key when it cannot. */
export function encodeValue(key: string, value: unknown): string {
  try {
    return jsonCodec.encode(value);
  } catch (error) {
    throw new CacheError(
      'CACHE_VALUE_INVALID',
      `cannot cache the value of "${key}": ${(error as Error).message}; cache plain data (objects, arrays, Date, bigint, Map, Set) without cycles`,
      { cause: error, details: { key } },
    );
  }
}
