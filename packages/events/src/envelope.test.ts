import { CodecError } from '@blueprint/core';
import { jsonCodec } from '@blueprint/core/transport';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, type EventEnvelope, encodeEnvelope, NO_HEADERS } from './envelope.js';

const envelope: EventEnvelope = {
  id: '0190f5c2-7a3e-7c41-9f0b-6f2d1e3a4b5c',
  name: 'order.placed',
  version: 2,
  occurredAt: new Date('2025-01-02T03:04:05.678Z'),
  key: 'order "42"',
  headers: { 'x-correlation-id': 'c1', traceparent: '00-a-b-01' },
  payload: { total: 10n, at: new Date(0), tags: new Set(['a']), nested: { list: [1, undefined] } },
};

describe('envelope encoding', () => {
  it('writes what jsonCodec would, and reads it back with every value type', () => {
    const text = encodeEnvelope(envelope);
    expect(jsonCodec.decode(text)).toEqual(jsonCodec.decode(jsonCodec.encode(envelope)));
    expect(decodeEnvelope(text)).toEqual(envelope);
    const plain = { ...envelope, key: undefined, headers: NO_HEADERS, payload: undefined };
    expect(decodeEnvelope(encodeEnvelope(plain))).toEqual({ ...plain, key: undefined });
  });

  it('encodes payloads exactly as the codec does', () => {
    const payloads: unknown[] = [
      { a: 'x', n: 1.5, ok: true, none: null, list: [1, 'two', { three: 3 }] },
      { skipped: undefined, kept: 1 },
      [undefined, 1],
      Object.assign(Object.create(null), { bare: 1 }),
      { at: new Date(5) },
      { n: Number.NaN, big: 1n },
      new Map([['k', 1]]),
      { toJSON: () => 'custom' },
      'text',
      7,
      null,
      undefined,
      { deep: { deeper: { deepest: [[[[{ x: 1 }]]]] } } },
    ];
    for (const payload of payloads) {
      const text = encodeEnvelope({ ...envelope, key: undefined, headers: NO_HEADERS, payload });
      expect(text).toBe(jsonCodec.encode({ ...envelope, key: undefined, headers: {}, payload }));
    }
  });

  it('falls back to the codec for ids or names it would have to escape', () => {
    const odd = { ...envelope, id: 'id "with" quotes' };
    expect(decodeEnvelope(encodeEnvelope(odd)).id).toBe('id "with" quotes');
  });

  it('refuses a payload with the codec’s reserved key', () => {
    expect(() => encodeEnvelope({ ...envelope, payload: { $bp: 'x' } })).toThrow(CodecError);
  });

  it('refuses malformed or unsafe text with a CodecError naming the problem', () => {
    expect(() => decodeEnvelope('not json')).toThrow(/malformed or unsafe JSON/);
    expect(() =>
      decodeEnvelope(
        '{"id":"x","name":"n","version":1,"occurredAt":{"$bp":"date","v":"2025-01-01T00:00:00Z"},"headers":{},"payload":{"__proto__":{"admin":true}}}',
      ),
    ).toThrow(CodecError);
    expect(() => decodeEnvelope('[1]')).toThrow(/expected an envelope object/);
    expect(() => decodeEnvelope('{"id":"x","name":"n","version":1.5,"headers":{}}')).toThrow(
      /"version" is not a whole number/,
    );
    expect(() =>
      decodeEnvelope('{"id":"x","name":"n","version":1,"occurredAt":"yesterday","headers":{}}'),
    ).toThrow(/"occurredAt" is not a date/);
    expect(() =>
      decodeEnvelope(
        '{"id":"x","name":"n","version":1,"occurredAt":{"$bp":"date","v":"2025-01-01T00:00:00Z"},"headers":{"a":1}}',
      ),
    ).toThrow(/header is not a string/);
  });
});
