import { describe, expect, it } from 'vitest';
import {
  formatEntry,
  itemKey,
  MAX_KEY_BYTES,
  memcachedExpiry,
  parseEntry,
  RELATIVE_EXPIRY_LIMIT_S,
} from './entry.js';

describe('itemKey', () => {
  it('keeps a key memcached accepts as it is', () => {
    expect(itemKey('shop:cache:', 'k:products:get:{"id":"p1"}')).toBe(
      'shop:cache:k:products:get:{"id":"p1"}',
    );
  });

  it('hashes keys with spaces, control characters or over 250 bytes, distinctly and within the limit', () => {
    const odd = [
      'k:with space',
      'k:line\nbreak',
      'k:del\u007f',
      `k:${'x'.repeat(260)}`,
      `k:${'é'.repeat(130)}`,
    ];
    const keys = odd.map((name) => itemKey('p:', name));
    for (const key of keys) {
      expect(key).toMatch(/^p:h:[A-Za-z0-9_-]{43}$/);
      expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_KEY_BYTES);
    }
    expect(new Set(keys).size).toBe(odd.length);
    expect(itemKey('p:', `k:${'x'.repeat(246)}`)).toBe(`p:k:${'x'.repeat(246)}`);
  });
});

describe('memcachedExpiry', () => {
  const now = Date.UTC(2030, 0, 1);

  it('gives relative seconds, rounded up plus one, up to 30 days', () => {
    expect(memcachedExpiry(now + 1, now)).toBe(2);
    expect(memcachedExpiry(now + 60_000, now)).toBe(61);
    expect(memcachedExpiry(now + (RELATIVE_EXPIRY_LIMIT_S - 1) * 1000, now)).toBe(RELATIVE_EXPIRY_LIMIT_S);
  });

  it('gives an absolute Unix time beyond 30 days, which memcached reads as one', () => {
    const expiresAt = now + 90 * 86_400_000;
    expect(memcachedExpiry(expiresAt, now)).toBe(Math.ceil(expiresAt / 1000) + 1);
    expect(memcachedExpiry(expiresAt, now)).toBeGreaterThan(RELATIVE_EXPIRY_LIMIT_S);
  });

  it('gives 0 (no expiry) past what 32 bits hold', () => {
    expect(memcachedExpiry(now + 200 * 365 * 86_400_000, now)).toBe(0);
  });
});

describe('entries', () => {
  it('round-trip with and without tags', () => {
    expect(parseEntry(formatEntry(1, 2, [], '"v"'))).toEqual({
      freshUntil: 1,
      expiresAt: 2,
      tags: [],
      encoded: '"v"',
    });
    const tagged = formatEntry(
      10,
      20,
      [
        ['products', 'g1'],
        ['p:|1', 'g2'],
      ],
      '{"a":"|"}',
    );
    expect(parseEntry(tagged)).toEqual({
      freshUntil: 10,
      expiresAt: 20,
      tags: [
        ['products', 'g1'],
        ['p:|1', 'g2'],
      ],
      encoded: '{"a":"|"}',
    });
  });

  it('refuses texts this store did not write', () => {
    for (const text of [
      '',
      'plain',
      '|"v"',
      '1|"v"',
      'a,2|"v"',
      '1,b|"v"',
      '1,-2|"v"',
      '1.5,2|"v"',
      `${'9'.repeat(17)},1|"v"`,
      '1,2,|"v"',
      '1,2,99|[]',
      '1,2,2|[]"v"',
      '1,2,5|{"a"}',
      '1,2,7|[[1,2]]',
      '1,2,10|[["t",1]]x',
      '1,2,13|[["t","g",3]]',
    ]) {
      expect(parseEntry(text), text).toBeUndefined();
    }
  });
});
