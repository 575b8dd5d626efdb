import { describe, expect, it } from 'vitest';
import {
  byteSizeSchema,
  durationSchema,
  flagSchema,
  parseByteSize,
  parseDuration,
  portSchema,
} from './units.js';

describe('durations', () => {
  it.each([
    [250, 250],
    ['250', 250],
    ['250ms', 250],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    [' 3 s ', 3_000],
  ])('reads %j as %d ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
    expect(durationSchema.parse(value)).toBe(ms);
  });

  it.each(['2 secs', '-1s', 's', '', '1d'])('refuses %j with the accepted forms', (value) => {
    expect(parseDuration(value)).toBeUndefined();
    const result = durationSchema.safeParse(value);
    expect(result.error?.issues[0]?.message).toBe(
      `invalid duration ${JSON.stringify(value)}: write milliseconds as a number or a string like "250ms", "2s", "1m"`,
    );
  });

  it('refuses negative and non-finite numbers', () => {
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('byte sizes', () => {
  it.each([
    [1024, 1024],
    ['512', 512],
    ['64kb', 65_536],
    ['1MB', 1_048_576],
    ['1.5mib', 1_572_864],
    ['2gb', 2 * 1024 ** 3],
  ])('reads %j as %d bytes', (value, bytes) => {
    expect(parseByteSize(value)).toBe(bytes);
    expect(byteSizeSchema.parse(value)).toBe(bytes);
  });

  it.each(['1 gigabyte', '-1kb', 1.5])('refuses %j', (value) => {
    expect(parseByteSize(value)).toBeUndefined();
  });
});

describe('ports and flags', () => {
  it('reads ports from numbers or digit strings within 0..65535', () => {
    expect(portSchema.parse('4001')).toBe(4001);
    expect(portSchema.parse(0)).toBe(0);
    expect(portSchema.safeParse('http').error?.issues[0]?.message).toBe(
      'invalid port "http": use a whole number from 0 to 65535',
    );
    expect(() => portSchema.parse(65_536)).toThrow();
  });

  it('reads flags from booleans or "true"/"false"', () => {
    expect(flagSchema.parse('true')).toBe(true);
    expect(flagSchema.parse(false)).toBe(false);
    expect(() => flagSchema.parse('yes')).toThrow();
  });
});
