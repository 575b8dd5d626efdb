import { jsonCodec } from '@blueprint/core/transport';
import { describe, expect, it } from 'vitest';
import { DecodedValues, REMEMBERED_KEYS, REMEMBERED_TEXT_LENGTH } from './decoded-values.js';

/** A decoder that counts its calls, decoding with the codec. */
function counting() {
  const decoder = {
    calls: 0,
    decode(_key: string, encoded: string): unknown {
      decoder.calls++;
      return jsonCodec.decode(encoded);
    },
  };
  return decoder;
}

describe('DecodedValues', () => {
  it('stops decoding a text read a second time, and hands every reader its own copy', () => {
    const values = new DecodedValues();
    const decoder = counting();
    const text = jsonCodec.encode({ id: 'p1', tags: ['a'], stock: { count: 1 } });
    const expected = { id: 'p1', tags: ['a'], stock: { count: 1 } };
    type Read = { tags: string[]; stock: { count: number } };
    for (let read = 0; read < 4; read++) {
      const value = values.decode('p1', text, decoder) as Read;
      expect(value).toEqual(expected);
      value.tags.push('changed');
      value.stock.count = 99;
    }
    expect(decoder.calls).toBe(2);
  });

  it('decodes again when the text under the key changed in any character', () => {
    const values = new DecodedValues();
    const decoder = counting();
    for (let read = 0; read < 3; read++) values.decode('k', jsonCodec.encode({ n: 1 }), decoder);
    expect(decoder.calls).toBe(2);
    expect(values.decode('k', jsonCodec.encode({ n: 2 }), decoder)).toEqual({ n: 2 });
    expect(values.decode('other', jsonCodec.encode({ n: 2 }), decoder)).toEqual({ n: 2 });
    expect(decoder.calls).toBe(4);
  });

  it('copies what the codec revives (dates, maps, sets, bytes, bigints) as a decode would', () => {
    const values = new DecodedValues();
    const value = {
      at: new Date('2026-01-02T03:04:05.000Z'),
      map: new Map([['a', { n: 1 }]]),
      set: new Set([1, 2]),
      bytes: new Uint8Array([1, 2, 3]),
      big: 12n,
      list: [undefined, Number.NaN],
    };
    const text = jsonCodec.encode(value);
    const decoder = counting();
    for (let read = 0; read < 3; read++) {
      const copy = values.decode('v', text, decoder) as typeof value;
      expect(copy).toEqual(jsonCodec.decode(text));
      expect(copy.at).toBeInstanceOf(Date);
      expect(copy.map).toBeInstanceOf(Map);
      expect(copy.bytes).toBeInstanceOf(Uint8Array);
      copy.at.setFullYear(2000);
      copy.map.get('a')!.n = 5;
      copy.bytes[0] = 9;
      copy.set.add(3);
    }
    expect(decoder.calls).toBe(2);
  });

  it('remembers nothing when the decode throws, and decodes long texts every time', () => {
    const values = new DecodedValues();
    const decoder = counting();
    expect(() => values.decode('bad', '{"__proto__":{}}', decoder)).toThrow();
    expect(() => values.decode('bad', '{"__proto__":{}}', decoder)).toThrow();
    const long = jsonCodec.encode('x'.repeat(REMEMBERED_TEXT_LENGTH));
    values.decode('long', long, decoder);
    values.decode('long', long, decoder);
    expect(decoder.calls).toBe(4);
  });

  it(`keeps at most ${REMEMBERED_KEYS} keys, forgetting the oldest first`, () => {
    const values = new DecodedValues();
    const decoder = counting();
    for (let i = 0; i <= REMEMBERED_KEYS; i++) values.decode(`k${i}`, `${i}`, decoder);
    for (let read = 0; read < 3; read++) values.decode(`k${REMEMBERED_KEYS}`, `${REMEMBERED_KEYS}`, decoder);
    expect(decoder.calls).toBe(REMEMBERED_KEYS + 2);
    values.decode('k0', '0', decoder);
    values.decode('k0', '0', decoder);
    expect(decoder.calls).toBe(REMEMBERED_KEYS + 4);
  });
});
