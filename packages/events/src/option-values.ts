/**
 * Reading option values given in code: durations (ms or `"2s"`), whole numbers and choices, with a coded error
 * naming the option and the fix.
 */
import { parseDuration } from '@blueprint/core';
import { EventsError, type EventsErrorCode } from './errors.js';

/** A duration option in ms: `fallback` when undefined; throws `code` when it is not a duration. */
export function durationOption(
  value: number | string | undefined,
  fallback: number,
  what: string,
  code: EventsErrorCode = 'EVENTS_CONFIG_INVALID',
): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new EventsError(
      code,
      `invalid ${what} ${JSON.stringify(value)}: use milliseconds or a string like "500ms", "10s"`,
    );
  }
  return ms;
}

/**
 * A whole-number option of at least `min` (or exactly `allowed`, a sentinel such as -1 for "no limit"):
 * `fallback` when undefined; throws `code` otherwise.
 */
export function wholeNumberOption(
  value: number | undefined,
  fallback: number,
  what: string,
  min = 1,
  code: EventsErrorCode = 'EVENTS_CONFIG_INVALID',
  allowed?: number,
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || (n < min && n !== allowed)) {
    const also = allowed === undefined ? '' : ` (or ${allowed})`;
    throw new EventsError(code, `invalid ${what} ${JSON.stringify(n)}: use a whole number >= ${min}${also}`);
  }
  return n;
}

/** One of the `allowed` strings: `fallback` when undefined; throws `EVENTS_CONFIG_INVALID` listing them otherwise. */
export function choiceOption<T extends string>(
  value: T | undefined,
  fallback: T,
  what: string,
  allowed: readonly T[],
): T {
  const choice = value ?? fallback;
  if (!allowed.includes(choice)) {
    throw new EventsError(
      'EVENTS_CONFIG_INVALID',
      `invalid ${what} ${JSON.stringify(choice)}: use ${allowed.map((a) => JSON.stringify(a)).join(' or ')}`,
    );
  }
  return choice;
}
