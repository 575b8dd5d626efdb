import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from './replay-guard.js';

const now = 1_750_000_000_000;
const nonce = () => randomBytes(12).toString('base64url');

describe('ReplayGuard', () => {
  it('refuses a nonce presented again with the same expiry until that expiry passes', () => {
    const replays = new ReplayGuard();
    const n = nonce();
    expect(replays.remember(n, now + 10_000, now)).toBe(true);
    expect(replays.remember(n, now + 10_000, now + 5_000)).toBe(false);
    expect(replays.remember(n, now + 10_000, now + 10_000)).toBe(false);
    expect(replays.remember(n, now + 10_000, now + 10_001)).toBe(true);
  });

  it('keeps every one of many nonces (through table growth), packed and as text', () => {
    const replays = new ReplayGuard();
    const nonces = Array.from({ length: 20_000 }, nonce);
    const texts = ['a', 'not base64url!!!', 'é'.repeat(16), nonce().slice(0, 15), `${nonce()}AAAA`];
    const all = [...nonces, ...texts];
    expect(all.filter((n) => replays.remember(n, now + 10_000, now))).toHaveLength(all.length);
    expect(replays.size).toBe(nonces.length + texts.length);
    expect(all.filter((n) => replays.remember(n, now + 10_000, now + 1))).toEqual([]);
    expect(replays.size).toBe(nonces.length + texts.length);
  });

  it('tells apart nonces that differ in one character, the last one included', () => {
    const replays = new ReplayGuard();
    const base = 'AAAAAAAAAAAAAAAA';
    expect(replays.remember(base, now + 1_000, now)).toBe(true);
    for (let i = 0; i < 16; i++) {
      for (const char of ['B', '_', '-', '9', 'g']) {
        const other = `${base.slice(0, i)}${char}${base.slice(i + 1)}`;
        expect(replays.remember(other, now + 1_000, now)).toBe(true);
      }
    }
    expect(replays.remember(base, now + 1_000, now)).toBe(false);
  });

  it('reads a nonce in place in a longer text', () => {
    const replays = new ReplayGuard();
    const n = nonce();
    expect(replays.rememberIn(`bp1.x.y.1.${n}.sig`, 10, 26, now + 1_000, now)).toBe(true);
    expect(replays.remember(n, now + 1_000, now)).toBe(false);
  });

  it('forgets a whole expiry at once when it passes, and is bounded', () => {
    const replays = new ReplayGuard(2);
    expect(replays.remember('a', now + 100, now)).toBe(true);
    expect(replays.remember('b', now + 200, now)).toBe(true);
    expect(replays.remember('c', now + 100, now)).toBe(false);
    expect(replays.remember('c', now + 5_000, now + 150)).toBe(true);
    expect(replays.size).toBe(2);
    expect(replays.remember('d', now + 5_000, now + 1_500)).toBe(true);
    expect(replays.remember('c', now + 5_000, now + 1_500)).toBe(false);
    expect(replays.size).toBe(2);
    expect(replays.remember('e', now + 9_000, now + 6_000)).toBe(true);
    expect(replays.size).toBe(1);
  });
});
