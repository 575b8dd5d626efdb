import { CODEC_TAG, jsonCodec } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { decodeStored } from './decode.js';

describe('decodeStored', () => {
  it('decodes exactly as the codec does', () => {
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
      expect(decodeStored(text)).toEqual(jsonCodec.decode(text));
    }
  });

  it('refuses what the codec refuses: __proto__ (also escaped), constructor.prototype, malformed text', () => {
    for (const text of [
      '{"__proto__":{"polluted":true}}',
      '{"\\u005f_proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"a":',
      `{"${CODEC_TAG}":"nope","v":1}`,
    ]) {
      expect(() => decodeStored(text)).toThrow(expect.objectContaining({ code: 'CODEC_INVALID' }));
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
