/**
 * Durations and byte sizes as written in topology files: numbers are milliseconds (or bytes), strings
 * carry a unit (`"250ms"`, `"2s"`, `"1m"`, `"64kb"`, `"1mb"`). Plugins use these schemas for their
 * sections so every option reads the same way.
 */
import { z } from 'zod';

/**
 * A duration as code and topology files write it: milliseconds as a number, or a string with a unit
 * (`"250ms"`, `"2s"`, `"1.5m"`, `"1h"`). Every Blueprint option that is a duration takes this type.
 */
export type Duration = number | string;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const DURATION_FACTORS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)$/i;
const SIZE_FACTORS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A number or a string; anything else is an error naming the value and what to write. */
function numberOrText(what: string, hint: string) {
  return z.union([z.number(), z.string()], {
    error: (issue) => `invalid ${what} ${describeValue(issue.input)}: ${hint}`,
  });
}

/** A short rendering of a bad value for a message. */
function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Text holding digits alone (the base unit), or an amount and a unit `pattern` captures (amount, unit),
 * scaled by `scale`. Returns undefined when it is neither.
 */
function parseWithUnit(
  text: string,
  pattern: RegExp,
  scale: (amount: number, unit: string) => number,
): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = pattern.exec(trimmed);
  return match ? scale(Number(match[1]), match[2]!) : undefined;
}

const scaleDuration = (amount: number, unit: string): number =>
  amount * DURATION_FACTORS[unit as keyof typeof DURATION_FACTORS];
const scaleSize = (amount: number, unit: string): number =>
  Math.floor(amount * SIZE_FACTORS[unit.toLowerCase()]!);

/** Parses `"250ms"`, `"2s"`, `"1.5m"`, `"1h"` or a number of milliseconds. Returns undefined when invalid. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  return parseWithUnit(value, DURATION, scaleDuration);
}

/** Parses `"64kb"`, `"1mb"` or a number of bytes. Returns undefined when invalid. */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  return parseWithUnit(value, SIZE, scaleSize);
}

/**
 * A number, or text from an environment variable, parsed by `parse` into a number; an invalid one is
 * refused as `invalid <what> <value>: <hint>`.
 */
function parsedNumberSchema(
  what: string,
  hint: string,
  parse: (value: string | number) => number | undefined,
) {
  return numberOrText(what, hint).transform((value, ctx) => {
    const parsed = parse(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid ${what} ${JSON.stringify(value)}: ${hint}` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** The port `value` names (a whole number from 0 to 65535), or undefined. */
function parsePort(value: string | number): number | undefined {
  const port = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** Zod schema for a duration option; the parsed value is milliseconds. */
export const durationSchema = parsedNumberSchema(
  'duration',
  'write milliseconds as a number or a string like "250ms", "2s", "1m"',
  parseDuration,
);

/** Zod schema for a byte size option; the parsed value is bytes. */
export const byteSizeSchema = parsedNumberSchema(
  'size',
  'write bytes as a number or a string like "64kb", "1mb"',
  parseByteSize,
);

/** Zod schema for a TCP port that may come from an environment variable (`"${PORT:-3000}"`). */
export const portSchema = parsedNumberSchema('port', 'use a whole number from 0 to 65535', parsePort);

/** Zod schema for a whole number >= 0 that may come from an environment variable. */
export const countSchema = wholeNumberSchema(0);

/**
 * Zod schema for a whole number from `min` to `max` that may come from an environment variable; the
 * error names the bad value and the range.
 *
 * @example
 * maxAttempts: wholeNumberSchema(1, 100).optional()
 */
export function wholeNumberSchema(min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return numberOrText('count', `use a whole number ${range}`).transform((value, ctx) => {
    const count = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isInteger(count) || count < min || count > max) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid count ${JSON.stringify(value)}: use a whole number ${range}`,
      });
      return z.NEVER;
    }
    return count;
  });
}

/** Zod schema for a boolean that may come from an environment variable (`"true"`/`"false"`). */
export const flagSchema = z
  .union([z.boolean(), z.enum(['true', 'false'])], {
    error: (issue) => `invalid flag ${describeValue(issue.input)}: use true or false`,
  })
  .transform((value) => value === true || value === 'true');
