import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacKey, sameSignature } from './hmac.js';

describe('HmacKey', () => {
  const keys: (string | Buffer)[] = [
    'a-secret-of-at-least-thirty-two-characters!',
    'x'.repeat(64),
    'a secret longer than one sha-256 block, '.repeat(3),
    'un secret accentué, long de plus de trente-deux caractères',
    Buffer.from([0xff, 0x80, 0x00, 0x7f, 0x36, 0x5c]),
  ];
  const texts = [
    '',
    'bp1.gateway.orders.1750000010.AAAAAAAAAAAAAAAA',
    '{"payload":"déjà vu ✓"}',
    'é'.repeat(300),
  ];

  it('signs the same bytes as createHmac, for ASCII, long, non-ASCII and binary keys', () => {
    for (const key of keys) {
      const prepared = new HmacKey(key);
      for (const text of texts) {
        const expected = createHmac('sha256', key).update(text).digest('base64url');
        expect(prepared.sign(text)).toBe(expected);
        expect(prepared.verify(text, expected)).toBe(true);
      }
    }
  });

  it('refuses another signature, a tampered text and a signature of another length', () => {
    const key = new HmacKey(keys[0]!);
    const signature = key.sign('hello');
    expect(key.verify('hellO', signature)).toBe(false);
    expect(key.verify('hello', new HmacKey(keys[1]!).sign('hello'))).toBe(false);
    expect(key.verify('hello', signature.slice(1))).toBe(false);
    expect(sameSignature('abc', 'abd')).toBe(false);
    expect(sameSignature('abc', 'abc')).toBe(true);
  });
});
