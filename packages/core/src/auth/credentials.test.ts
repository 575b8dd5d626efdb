import { describe, expect, it } from 'vitest';
import { type BlueprintError, hasErrorCode } from '../errors.js';
import { mintCredential, verifyCredential } from './credentials.js';
import { ReplayGuard } from './replay-guard.js';

const secrets = { current: 'a-secret-of-at-least-thirty-two-characters!' };
const now = 1_750_000_000_000;
const options = (replays = new ReplayGuard()) => ({
  audience: 'orders',
  maxTtlMs: 10_000,
  clockSkewMs: 5_000,
  replays,
  now,
});

function refusal(fn: () => unknown): BlueprintError {
  try {
    fn();
  } catch (error) {
    expect(hasErrorCode(error, 'UNAUTHENTICATED')).toBe(true);
    expect((error as BlueprintError).status).toBe(401);
    return error as BlueprintError;
  }
  throw new Error('expected UNAUTHENTICATED');
}

describe('service credentials', () => {
  it('verifies a fresh credential and names the caller', () => {
    const token = mintCredential(secrets, 'gateway', 'orders', 10_000, now);
    expect(verifyCredential(token, secrets, options())).toEqual({
      caller: 'gateway',
      expiresAt: Math.ceil((now + 10_000) / 1000) * 1000,
    });
  });

  it('refuses a missing, malformed, oversized, foreign, expired, over-long or wrongly signed credential', () => {
    const reason = (token: string | undefined, opts = options()) =>
      (refusal(() => verifyCredential(token, secrets, opts)).details as { reason: string }).reason;
    expect(reason(undefined)).toBe('missing');
    expect(reason('')).toBe('missing');
    expect(reason('Bearer abc')).toBe('malformed');
    expect(reason(`bp1.gateway.orders.${'9'.repeat(300)}`)).toBe('malformed');
    expect(reason(mintCredential(secrets, 'gateway', 'payments', 10_000, now))).toBe('audience');
    expect(reason(mintCredential(secrets, 'gateway', 'orders', 10_000, now - 60_000))).toBe('expired');
    expect(reason(mintCredential(secrets, 'gateway', 'orders', 3_600_000, now))).toBe('validity');
    expect(
      reason(
        mintCredential(
          { current: 'another secret entirely, also long enough' },
          'gateway',
          'orders',
          10_000,
          now,
        ),
      ),
    ).toBe('signature');
    const token = mintCredential(secrets, 'gateway', 'orders', 10_000, now);
    const tampered = token.replace('.gateway.', '.payment.');
    expect(reason(tampered)).toBe('signature');
  });

  it('refuses a credential seen before: every call needs a fresh one', () => {
    const replays = new ReplayGuard();
    const token = mintCredential(secrets, 'gateway', 'orders', 10_000, now);
    verifyCredential(token, secrets, options(replays));
    const error = refusal(() => verifyCredential(token, secrets, options(replays)));
    expect(error.message).toBe('the credential was used before: every call needs a fresh one');
    expect(error.message).not.toContain(token);
  });

  it('accepts the previous secret during a rotation', () => {
    const token = mintCredential(
      { current: 'the old secret, long enough to be used' },
      'gateway',
      'orders',
      10_000,
      now,
    );
    const rotated = { current: secrets.current, previous: 'the old secret, long enough to be used' };
    expect(verifyCredential(token, rotated, options()).caller).toBe('gateway');
  });
});

describe('the shape of a credential', () => {
  /** The format, as a regular expression: what the verifier's one-pass check must accept, exactly. */
  const FORMAT =
    /^bp1\.([a-z][a-z0-9-]{0,62})\.([a-z][a-z0-9-]{0,62})\.(\d{1,12})\.([A-Za-z0-9_-]{16,32})\.[A-Za-z0-9_-]{43}$/;
  const reasonOf = (token: string) => {
    try {
      verifyCredential(token, secrets, options());
      return 'accepted';
    } catch (error) {
      return ((error as BlueprintError).details as { reason: string }).reason;
    }
  };

  it('refuses as malformed exactly the texts the format does not match', () => {
    const token = mintCredential(secrets, 'gateway', 'orders', 10_000, now);
    const variants = new Set<string>([token]);
    for (let i = 0; i <= token.length; i++) {
      for (const char of ['', '.', 'a', 'Z', '9', '-', '_', ' ', 'é', '..']) {
        variants.add(token.slice(0, i) + char + token.slice(i + 1));
        variants.add(token.slice(0, i) + char + token.slice(i));
      }
    }
    const long = 'a'.repeat(63);
    for (const name of ['a', long, `${long}a`, '9a', 'a-', '-a', 'A']) {
      variants.add(token.replace('.gateway.', `.${name}.`));
      variants.add(token.replace('.orders.', `.${name}.`));
    }
    const [head, expires, nonce, signature] = [
      'bp1.gateway.orders',
      ...token.split('.').slice(3),
    ] as string[];
    for (const digits of ['', '1', '9'.repeat(12), '9'.repeat(13)]) {
      variants.add(`${head}.${digits}.${nonce}.${signature}`);
    }
    for (const length of [15, 16, 32, 33]) {
      variants.add(`${head}.${expires}.${'n'.repeat(length)}.${signature}`);
    }
    for (const variant of variants) {
      const malformed = variant === '' || variant.length > 256 || !FORMAT.test(variant);
      expect([variant, reasonOf(variant) === 'malformed']).toEqual([variant, malformed]);
    }
    expect(reasonOf(token)).toBe('accepted');
  });
});
