import { describe, expect, it } from 'vitest';
import { isCacheError } from './errors.js';
import { argsKey, cacheKey, stableText } from './keys.js';

describe('cache keys', () => {
  it('does not depend on the order of object keys, at any depth', () => {
    expect(stableText({ a: 1, b: { c: 2, d: [1, { e: 3, f: 4 }] } })).toBe(
      stableText({ b: { d: [1, { f: 4, e: 3 }], c: 2 }, a: 1 }),
    );
    expect(argsKey([{ id: 'p1', locale: 'en' }])).toBe(argsKey([{ locale: 'en', id: 'p1' }]));
  });

  it('tells apart values JSON would confuse', () => {
    const texts = [
      stableText('1'),
      stableText(1),
      stableText(1n),
      stableText(null),
      stableText(undefined),
      stableText('undefined'),
      stableText(Number.NaN),
      stableText(new Date(0)),
      stableText(new Date(0).toISOString()),
      stableText([1, 2]),
      stableText(new Set([1, 2])),
      stableText(new Map([[1, 2]])),
    ];
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('sorts Set items and Map entries', () => {
    expect(stableText(new Set([2, 1]))).toBe(stableText(new Set([1, 2])));
    expect(
      stableText(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe(
      stableText(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    );
  });

  it('ignores undefined object properties like the codec does', () => {
    expect(stableText({ a: 1, b: undefined })).toBe(stableText({ a: 1 }));
  });

  it('keeps keys up to 1,024 characters of arguments readable and digests longer ones', () => {
    expect(cacheKey('products', 'get', [{ id: 'p1' }])).toBe('products:get:{"id":"p1"}');
    expect(cacheKey('Repo', 'find', ['a', 2])).toBe('Repo:find:["a",2]');
    const readable = cacheKey('products', 'search', [{ q: 'x'.repeat(500) }]);
    expect(readable).toBe(`products:search:{"q":"${'x'.repeat(500)}"}`);
    const atLimit = { q: 'x'.repeat(1024 - '{"q":""}'.length) };
    expect(cacheKey('products', 'search', [atLimit])).toBe(`products:search:${JSON.stringify(atLimit)}`);
    const long = cacheKey('products', 'search', [{ q: 'x'.repeat(2000) }]);
    expect(long).toMatch(/^products:search:#[\w-]{43}$/);
    expect(long).toBe(cacheKey('products', 'search', [{ q: 'x'.repeat(2000) }]));
    expect(long).not.toBe(cacheKey('products', 'search', [{ q: `${'x'.repeat(1999)}y` }]));
  });

  it('refuses functions and cycles with CACHE_OPTIONS_INVALID', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), cyclic]) {
      let caught: unknown;
      try {
        stableText(bad);
      } catch (error) {
        caught = error;
      }
      expect(isCacheError(caught, 'CACHE_OPTIONS_INVALID')).toBe(true);
    }
  });
});
