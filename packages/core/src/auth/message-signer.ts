/**
 * Signatures of what processes leave in a broker or a cache for each other (event envelopes, cache
 * entries, invalidation messages): with auth on, a process signs what it writes with a key derived from
 * the topology's secret, and refuses what it reads without a valid signature. Anyone who can write to the
 * broker or the cache, but does not hold the secret, can then forge nothing that is handled or served.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Topology } from '../topology.js';
import { serviceAuthOf } from './service-auth.js';

/** Signs and verifies messages of one purpose. */
export interface MessageSigner {
  /** The signature of `text` (base64url, 43 characters). */
  sign(text: string): string;
  /** True when `signature` is the signature of `text` under the current (or the previous) secret. */
  verify(text: string, signature: string | undefined): boolean;
}

function keyFor(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`blueprint:${purpose}`).digest();
}

/**
 * The signer of `purpose` (`"events"`, `"cache"`, ...) for this topology, or undefined when calls are not
 * authenticated (no `auth` section, or `"none"`). Keys differ per purpose, so a signature made for one
 * kind of message is never valid for another.
 *
 * @example
 * const signer = messageSigner(ctx.topology, 'events');
 * envelope.signature = signer?.sign(payloadText);
 */
export function messageSigner(topology: Topology, purpose: string): MessageSigner | undefined {
  const auth = serviceAuthOf(topology);
  if (auth === undefined) return undefined;
  const keys = [auth.secret, auth.previousSecret].flatMap((secret) =>
    secret === undefined ? [] : [keyFor(secret.reveal(), purpose)],
  );
  const signWith = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  return {
    sign: (text) => signWith(keys[0]!, text).toString('base64url'),
    verify(text, signature) {
      if (signature === undefined || !/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
      const given = Buffer.from(signature, 'base64url');
      return keys.some((key) => {
        const expected = signWith(key, text);
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
    },
  };
}
