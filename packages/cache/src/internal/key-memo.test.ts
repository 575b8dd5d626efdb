import { describe, expect, it } from 'vitest';
import { isCacheError } from '../errors.js';
import { cacheKey } from '../keys.js';
import { KeyMemo } from './key-memo.js';

const filter = () => ({
  query: 'adjustable desk lamp, warm white',
  categories: ['lighting', 'office', 'home-office'],
  price: { min: 20, max: 120, currency: 'EUR' },
  since: new Date(0),
  page: 3,
  inStockOnly: true,
});

/** The memo's key of `value`, asked twice so the second answer comes from the memo. */
function twice(memo: KeyMemo, value: unknown): [string, string] {
  return [memo.of(value), memo.of(value)];
}

describe('KeyMemo', () => {
  it('gives the key cacheKey computes, remembered or not, for every kind of argument', () => {
    const values: unknown[] = [
      filter(),
      { id: 'p1' },
      'p1',
      42,
      -0,
      Number.NaN,
      1n,
      null,
      undefined,
      true,
      [1, 'a', null, undefined, [2, { b: 1, a: 2 }]],
      { b: 1, a: undefined, c: { e: 'x"y\\z', d: '\n' } },
      new Map([['b', 1]]),
      new Set([2, 1]),
      new Uint8Array([1, 2]),
      { at: new Date(1_000) },
      { q: 'x'.repeat(2_000) },
      Object.assign(Object.create(null), { a: 1 }),
      JSON.parse('{"__proto__": {"admin": true}, "id": "p1"}'),
      { toJSON: () => 'custom' },
    ];
    const memo = new KeyMemo('products:search:');
    for (const value of values) {
      const expected = cacheKey('products', 'search', [value]);
      expect(twice(memo, value)).toEqual([expected, expected]);
    }
  });

  it('uses values, not object identity: a mutated argument gets its new key, a fresh equal one the same key', () => {
    const memo = new KeyMemo('R:find:');
    const argument = filter();
    const before = memo.of(argument);
    argument.price.max = 200;
    const after = memo.of(argument);
    expect(after).not.toBe(before);
    expect(after).toBe(cacheKey('R', 'find', [argument]));
    argument.categories.push('garden');
    expect(memo.of(argument)).toBe(cacheKey('R', 'find', [argument]));
    expect(memo.of(filter())).toBe(before);
  });

  it('tells apart arguments that differ anywhere, with keys in any order sharing one key', () => {
    const memo = new KeyMemo('R:find:');
    const seen = new Map<string, string>();
    for (let i = 0; i < 3_000; i++) {
      const value = { user: `user-${i % 50}-eu`, q: `lamp ${i % 7}`, page: i % 3, flags: [i % 2 === 0] };
      const key = memo.of(value);
      expect(key).toBe(cacheKey('R', 'find', [value]));
      expect(memo.of({ flags: value.flags, page: value.page, q: value.q, user: value.user })).toBe(key);
      seen.set(JSON.stringify(value), key);
    }
    expect(new Set(seen.values()).size).toBe(seen.size);
  });

  it('tells apart a Date from its text and an array from an object with index keys', () => {
    const memo = new KeyMemo('R:find:');
    const pairs: [unknown, unknown][] = [
      [{ at: new Date(0) }, { at: new Date(0).toISOString() }],
      [[1, 2], { 0: 1, 1: 2 }],
      [{ a: 1 }, { a: '1' }],
      [{ a: null }, { a: undefined }],
    ];
    for (const [a, b] of pairs) {
      memo.of(a);
      memo.of(b);
      expect(memo.of(a)).not.toBe(memo.of(b));
      expect(memo.of(b)).toBe(cacheKey('R', 'find', [b]));
    }
  });

  it('ignores keys inherited from a polluted Object.prototype, as the full key does', () => {
    const memo = new KeyMemo('R:find:');
    const full = { id: 'p1', role: 'admin' };
    const key = memo.of(full);
    const proto = Object.prototype as Record<string, unknown>;
    proto.role = 'admin';
    try {
      const own = { id: 'p1' };
      expect(memo.of(own)).toBe(cacheKey('R', 'find', [own]));
      expect(memo.of(own)).not.toBe(key);
    } finally {
      delete proto.role;
    }
  });

  it('keeps giving the full key in a streak of one argument, when it changes and when the streak ends', () => {
    const memo = new KeyMemo('R:find:');
    const argument = filter();
    const key = memo.of(argument);
    for (let i = 0; i < 5; i++) expect(memo.of(filter())).toBe(key);
    argument.page = 4;
    expect(memo.of(argument)).toBe(cacheKey('R', 'find', [argument]));
    const other = { ...filter(), inStockOnly: false };
    expect(memo.of(other)).toBe(cacheKey('R', 'find', [other]));
    expect(memo.of(filter())).toBe(key);
    expect(memo.of(filter())).toBe(key);
    expect(memo.of({ ...filter(), toJSON: () => 'custom' })).toBe(cacheKey('R', 'find', ['custom']));
    expect(memo.of([filter()])).toBe(cacheKey('R', 'find', [[filter()]]));
  });

  it('honours a toJSON added to Object.prototype in a streak, as the full key does', () => {
    const memo = new KeyMemo('R:find:');
    const key = memo.of({ id: 'p1' });
    expect(memo.of({ id: 'p1' })).toBe(key);
    Object.defineProperty(Object.prototype, 'toJSON', { value: () => 'everything', configurable: true });
    try {
      expect(memo.of({ id: 'p1' })).toBe(cacheKey('R', 'find', [{ id: 'p1' }]));
      expect(memo.of({ id: 'p1' })).not.toBe(key);
    } finally {
      delete (Object.prototype as { toJSON?: unknown }).toJSON;
    }
    expect(memo.of({ id: 'p1' })).toBe(key);
  });

  it('still refuses functions and cycles with CACHE_OPTIONS_INVALID', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const memo = new KeyMemo('R:find:');
    for (const bad of [() => 1, [Symbol('s')], Symbol('s'), cyclic]) {
      let caught: unknown;
      try {
        memo.of(bad);
      } catch (error) {
        caught = error;
      }
      expect(isCacheError(caught, 'CACHE_OPTIONS_INVALID')).toBe(true);
    }
  });
});
