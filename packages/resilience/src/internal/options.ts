/**
 * Checks of hand-written options: each failure is a `RESILIENCE_INVALID_OPTIONS` error naming the
 * option, the bad value and what is allowed.
 */
import { parseDuration } from '@blueprint/core';
import { ResilienceOptionsError } from '../errors.js';
import type { Duration } from '../policy.js';

/** Re-exported for the option helpers' signatures. */
export type { Duration };

/** Milliseconds of a duration option; `min` is the smallest allowed value. */
export function durationOption(value: Duration, option: string, min = 0): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw new ResilienceOptionsError(
      `${option} is ${JSON.stringify(value)}: use milliseconds >= ${min} or a string like "250ms", "2s"`,
    );
  }
  return ms;
}

/** A whole number option within `[min, max]`. */
export function integerOption(
  value: number,
  option: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ResilienceOptionsError(`${option} is ${JSON.stringify(value)}: use a whole number ${range}`);
  }
  return value;
}

/** A number option within `(min, max]` (or `[min, max]` when `inclusiveMin`). */
export function numberOption(
  value: number,
  option: string,
  min: number,
  max: number,
  inclusiveMin = false,
): number {
  const aboveMin = inclusiveMin ? value >= min : value > min;
  if (typeof value !== 'number' || !Number.isFinite(value) || !aboveMin || value > max) {
    throw new ResilienceOptionsError(
      `${option} is ${JSON.stringify(value)}: use a number ${inclusiveMin ? '>=' : '>'} ${min} and <= ${max}`,
    );
  }
  return value;
}

/** A function option. */
export function functionOption<F>(value: F, option: string): F {
  if (typeof value !== 'function') {
    throw new ResilienceOptionsError(`${option} must be a function, got ${typeof value}`);
  }
  return value;
}
