import secureJson from 'secure-json-parse';
import { describe, expect, it } from 'vitest';
import { CODEC_TAG, jsonCodec, parseJsonSafely, roundTrip } from './codec.js';
import { CodecError } from './errors.js';

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).code).toBe('CODEC_INVALID');
    return error as CodecError;
  }
  throw new Error('expected a CodecError');
}

describe('jsonCodec round trips', () => {
  it.each([
    ['a string', 'text'],
    ['a number', 42.5],
    ['a boolean', false],
    ['null', null],
    ['a plain object', { a: 1, b: { c: [1, 'two', null] } }],
    ['an empty array', []],
  ])('keeps %s as plain JSON', (_name, value) => {
    expect(jsonCodec.encode(value)).toBe(JSON.stringify(value));
    expect(roundTrip(value)).toEqual(value);
  });

  it('gives what decoding the encoded text gives, without sharing a reference with the value', () => {
    const nested = { id: 'p-1', tags: ['a', 'b'], size: { w: 1, h: -0 }, n: null, ok: true, '1': 'x' };
    const values: unknown[] = [
      nested,
      [nested, [1.5, 'two'], {}],
      Object.assign(Object.create(null), { a: 1 }),
      { when: new Date(0), big: 10n, list: [1, undefined], gone: undefined, f: () => 1 },
      { nan: Number.NaN, inner: { toJSON: () => 'custom' } },
      new (class Point {
        x = 1;
      })(),
    ];
    for (const value of values) {
      const copy = roundTrip(value);
      expect(copy).toStrictEqual(jsonCodec.decode(jsonCodec.encode(value)));
      if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
    }
    const copy = roundTrip(nested);
    expect(copy.tags).not.toBe(nested.tags);
    expect(Object.is(copy.size.h, 0)).toBe(true);
    const polluted = JSON.parse('{"__proto__":{"admin":true}}');
    expect(codecError(() => roundTrip(polluted)).message).toBe(
      codecError(() => jsonCodec.decode(jsonCodec.encode(polluted))).message,
    );
    expect(() => roundTrip({ [CODEC_TAG]: 'date' })).toThrow(CodecError);
  });

  it('keeps Dates, including invalid ones and Dates inside arrays and maps', () => {
    const value = {
      at: new Date('2024-02-29T12:00:00.123Z'),
      list: [new Date(0)],
      bad: new Date(Number.NaN),
    };
    const back = roundTrip(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.toISOString()).toBe('2024-02-29T12:00:00.123Z');
    expect(back.list[0]).toEqual(new Date(0));
    expect(back.bad).toBeInstanceOf(Date);
    expect(Number.isNaN(back.bad.getTime())).toBe(true);
  });

  it('copies a Date as the text round trip gives it back: a new Date of the same time', () => {
    const at = new Date('2024-02-29T12:00:00.123Z');
    const value = { at, far: new Date(8.64e15), bad: new Date(Number.NaN), list: [at] };
    const back = roundTrip(value);
    expect(back).toEqual(jsonCodec.decode(jsonCodec.encode(value)));
    expect(back.at).not.toBe(at);
    expect(back.list[0]).not.toBe(at);
    expect(back.far.getTime()).toBe(8.64e15);
  });

  it('gives a Date subclass or a Date with its own toJSON what its text gives', () => {
    class Stamp extends Date {}
    const custom = Object.assign(new Date(5), { toJSON: () => 'five' });
    const back = roundTrip({ stamp: new Stamp(7), custom });
    expect(back.stamp).toEqual(new Date(7));
    expect(Object.getPrototypeOf(back.stamp)).toBe(Date.prototype);
    expect(back.custom).toBe('five');
  });

  it('keeps a string that looks like a date as a string', () => {
    expect(roundTrip({ text: '2024-02-29T12:00:00.123Z' })).toEqual({ text: '2024-02-29T12:00:00.123Z' });
  });

  it('keeps bigints, Maps with any keys, Sets and bytes', () => {
    const value = {
      big: -(2n ** 80n),
      map: new Map<unknown, unknown>([
        ['a', new Date(5)],
        [1, new Set([1n])],
        [{ k: 1 }, undefined],
      ]),
      set: new Set(['x', 'y']),
      bytes: new Uint8Array([0, 1, 254, 255]),
      buffer: Buffer.from('hi'),
    };
    const back = roundTrip(value);
    expect(back.big).toBe(-(2n ** 80n));
    expect(back.map).toEqual(value.map);
    expect(back.set).toEqual(value.set);
    expect(back.bytes).toEqual(new Uint8Array([0, 1, 254, 255]));
    expect(Buffer.from(back.buffer).toString()).toBe('hi');
  });

  it('keeps undefined at the top level and inside arrays, drops it as an object value', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    const back = roundTrip({ list: [1, undefined, 3], gone: undefined, kept: null });
    expect(back.list).toHaveLength(3);
    expect(1 in back.list).toBe(true);
    expect(back.list[1]).toBeUndefined();
    expect('gone' in back).toBe(false);
    expect(back.kept).toBeNull();
  });

  it('keeps NaN and infinities', () => {
    expect(roundTrip([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  it('drops functions and symbols as JSON does', () => {
    expect(roundTrip({ f: () => 1, s: Symbol('x'), n: 1 })).toEqual({ n: 1 });
  });

  it('produces text a plain JSON parser reads', () => {
    const text = jsonCodec.encode({ at: new Date(0), big: 1n });
    expect(JSON.parse(text)).toEqual({
      at: { [CODEC_TAG]: 'date', v: '1970-01-01T00:00:00.000Z' },
      big: { [CODEC_TAG]: 'bigint', v: '1' },
    });
    expect(jsonCodec.contentType).toBe('application/json');
  });
});

describe('the reserved key', () => {
  it('refuses to encode an object that has the reserved key', () => {
    const error = codecError(() => jsonCodec.encode({ nested: { [CODEC_TAG]: 'date', v: 'x' } }));
    expect(error.message).toContain(`reserved key "${CODEC_TAG}"`);
    expect(error.message).toContain('"nested"');
  });

  it('refuses to decode an unknown tag or a tag that is not a string', () => {
    expect(codecError(() => jsonCodec.decode('{"$bp":"function","v":"x"}')).message).toContain(
      'unknown codec tag "function"',
    );
    codecError(() => jsonCodec.decode('{"a":{"$bp":7}}'));
  });

  it.each([
    ['a bigint that is not digits', '{"$bp":"bigint","v":"12x"}'],
    ['a map that is not an array', '{"$bp":"map","v":{}}'],
    ['a map entry that is not a pair', '{"$bp":"map","v":[1]}'],
    ['a set that is not an array', '{"$bp":"set","v":"abc"}'],
    ['bytes that are not text', '{"$bp":"bytes","v":1}'],
    ['a number that is not NaN or an infinity', '{"$bp":"num","v":"12"}'],
    ['a date that is not text', '{"$bp":"date","v":{}}'],
  ])('refuses %s', (_name, text) => {
    codecError(() => jsonCodec.decode(text));
  });
});

describe('pollution and malformed input', () => {
  it.each([
    ['__proto__ at the top', '{"__proto__":{"polluted":true}}'],
    ['__proto__ nested', '{"a":[{"__proto__":{"polluted":true}}]}'],
    ['__proto__ inside a tagged map', '{"$bp":"map","v":[["k",{"__proto__":{"polluted":true}}]]}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}'],
  ])('refuses %s with a CodecError and leaves Object.prototype alone', (_name, text) => {
    const error = codecError(() => jsonCodec.decode(text));
    expect(error.message).toContain('malformed or unsafe JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a "constructor" key that is not a prototype path', () => {
    expect(jsonCodec.decode('{"constructor":"value"}')).toEqual({ constructor: 'value' });
  });

  it.each([
    ['truncated JSON', '{"a":'],
    ['trailing garbage', '{"a":1} x'],
    ['empty text', ''],
    ['single quotes', "{'a':1}"],
  ])('throws a CodecError (never a SyntaxError) for %s', (_name, text) => {
    const error = codecError(() => jsonCodec.decode(text));
    expect(error.cause).toBeInstanceOf(SyntaxError);
    codecError(() => parseJsonSafely(text));
  });

  it('wraps what JSON.stringify cannot encode, such as a cycle, in a CodecError', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(codecError(() => jsonCodec.encode(cycle)).message).toContain('value cannot be encoded');
  });
});

describe('the plain-JSON shortcut of the safe parser', () => {
  it('parses text that cannot spell a polluting key exactly as secure-json-parse does', () => {
    const values = [
      1,
      'text',
      null,
      { id: 'p1', list: [1, 'a', null], nested: { ok: true } },
      { at: new Date(0), big: 5n, m: new Map([[1, 2]]), s: new Set([1]) },
      [undefined, 1],
      { text: 'quote " and \\ and é and ✓' },
    ];
    for (const value of values) {
      const text = jsonCodec.encode(value);
      expect(parseJsonSafely(text)).toEqual(secureJson.parse(text));
    }
  });

  it('still refuses __proto__ (also escaped), constructor.prototype, malformed text and bad tags', () => {
    for (const text of [
      '{"__proto__":{"polluted":true}}',
      '{"\\u005f_proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"a":',
      `{"${CODEC_TAG}":"nope","v":1}`,
    ]) {
      expect(() => jsonCodec.decode(text)).toThrow(expect.objectContaining({ code: 'CODEC_INVALID' }));
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('nesting depth', () => {
  it('decodes 128 levels and refuses 129 with CODEC_INVALID', () => {
    expect(jsonCodec.decode(`${'['.repeat(128)}${']'.repeat(128)}`)).toBeInstanceOf(Array);
    const error = codecError(() => jsonCodec.decode(`${'['.repeat(129)}${']'.repeat(129)}`));
    expect(error.message).toContain('nested deeper than 128 levels');
    expect(error.details).toEqual({ maxDepth: 128 });
  });

  it('refuses 100,000 levels of tagged values with a coded error, not a RangeError', () => {
    const depth = 100_000;
    const text = `${'{"$bp":"set","v":['.repeat(depth)}${']}'.repeat(depth)}`;
    codecError(() => jsonCodec.decode(text));
    codecError(() => parseJsonSafely(`{"__proto__x":${'['.repeat(depth)}${']'.repeat(depth)}}`));
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: `${'['.repeat(500)}\\"${'{'.repeat(500)}`, t: ['"]]]"'] });
    expect(jsonCodec.decode(text)).toEqual(JSON.parse(text));
  });
});
