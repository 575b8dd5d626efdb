/**
 * Credentials of calls between services: a short-lived token that names the calling process and the
 * called one, signed with HMAC-SHA256 over a secret the topology names (`auth.secret`).
 *
 * ```
 * bp1.<caller>.<audience>.<expires, epoch seconds>.<nonce>.<signature>
 * ```
 *
 * Why not JWT: the two ends are the same framework, so a fixed format needs no parser of untrusted JSON
 * and no algorithm negotiation (`alg: none` and key confusion cannot happen), and minting one costs one
 * HMAC. The nonce makes every token single-use: a server refuses a token it has seen before it expired.
 */
import { randomBytes } from 'node:crypto';
import { UnauthenticatedError } from '../errors.js';
import { HmacKey, sameSignature } from './hmac.js';
import type { ReplayGuard } from './replay-guard.js';

/** The header that carries a call's credential. It is never propagated to further calls. */
export const CREDENTIAL_HEADER = 'x-bp-credential';

/** Who called, as the RPC server verified it. */
export interface CallerIdentity {
  /** The calling process. */
  readonly caller: string;
}

/** Verifies the credential of a call to this process; throws `UNAUTHENTICATED` (401) or `FORBIDDEN` (403). */
export type CallAuthenticator = (credential: string | undefined) => CallerIdentity;

const VERSION = 'bp1';
/** A whole credential: caller, audience, expiry, nonce and signature, each checked in one pass. */
const CREDENTIAL =
  /^bp1\.[a-z][a-z0-9-]{0,62}\.[a-z][a-z0-9-]{0,62}\.\d{1,12}\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{43}$/;
/** Length of the signature and of the dot before it. */
const SIGNED_SUFFIX = 44;
/** Longest credential accepted, in characters: anything longer is refused unread. */
export const MAX_CREDENTIAL_LENGTH = 256;

/** The secrets credentials are signed with: the current one, and an optional previous one during a rotation. */
export interface CredentialSecrets {
  /** Signs new credentials and verifies them. */
  readonly current: string;
  /** Still verifies credentials while every process moves to the new secret. */
  readonly previous?: string | undefined;
}

/** What a verified credential says. */
export interface VerifiedCredential {
  /** The calling process. */
  readonly caller: string;
  /** When the credential expires, epoch ms. */
  readonly expiresAt: number;
}

/** The keys of a set of secrets, prepared once per set (a process keeps one set for its lifetime). */
interface Keys {
  readonly current: HmacKey;
  readonly previous: HmacKey | undefined;
}

const prepared = new WeakMap<CredentialSecrets, Keys>();

function keysOf(secrets: CredentialSecrets): Keys {
  let keys = prepared.get(secrets);
  if (keys === undefined) {
    keys = {
      current: new HmacKey(secrets.current),
      previous: secrets.previous === undefined ? undefined : new HmacKey(secrets.previous),
    };
    prepared.set(secrets, keys);
  }
  return keys;
}

/**
 * Random nonces of 12 bytes (16 base64url characters), drawn from a pool refilled 1,024 at a time: one
 * `randomBytes` call and one base64url encoding per refill (12 bytes encode to 16 characters exactly, so
 * each nonce is a slice of the encoded pool).
 */
class NoncePool {
  private pool = '';
  private offset = 0;
  next(): string {
    if (this.offset === this.pool.length) {
      this.pool = randomBytes(12 * 1024).toString('base64url');
      this.offset = 0;
    }
    const nonce = this.pool.slice(this.offset, this.offset + 16);
    this.offset += 16;
    return nonce;
  }
}

const nonces = new NoncePool();

/** Mints a fresh credential each time it is called; `now` is epoch ms (default `Date.now()`). */
export type CredentialMinter = (now?: number) => string;

/**
 * The minter of credentials from `caller` to `audience`, valid for `ttlMs`: each one has its own nonce
 * and its own signature; the key, the fixed part of the text and the expiry of the current second are
 * prepared once.
 *
 * @example
 * const mint = credentialMinter({ current: secret }, 'gateway', 'orders', 10_000);
 * headers[CREDENTIAL_HEADER] = mint();
 */
export function credentialMinter(
  secrets: CredentialSecrets,
  caller: string,
  audience: string,
  ttlMs: number,
): CredentialMinter {
  const key = keysOf(secrets).current;
  const fixed = `${VERSION}.${caller}.${audience}.`;
  let expires = Number.NaN;
  let head = '';
  return (now = Date.now()) => {
    const expiry = Math.ceil((now + ttlMs) / 1000);
    if (expiry !== expires) {
      expires = expiry;
      head = `${fixed}${expiry}.`;
    }
    const payload = head + nonces.next();
    return `${payload}.${key.sign(payload)}`;
  };
}

/**
 * Mints one credential for a call from `caller` to `audience`, valid for `ttlMs`. Calls made often use
 * a {@link credentialMinter}.
 *
 * @example
 * const token = mintCredential({ current: secret }, 'gateway', 'orders', 10_000);
 */
export function mintCredential(
  secrets: CredentialSecrets,
  caller: string,
  audience: string,
  ttlMs: number,
  now = Date.now(),
): string {
  return credentialMinter(secrets, caller, audience, ttlMs)(now);
}

function refuse(message: string, reason: string): never {
  throw new UnauthenticatedError(message, { details: { reason } });
}

/** Options of {@link verifyCredential}. */
export interface VerifyOptions {
  /** This process: the audience the credential must name. */
  readonly audience: string;
  /** Longest validity a credential may claim, in ms (its expiry at most this far ahead, plus `clockSkewMs`). */
  readonly maxTtlMs: number;
  /** Tolerated clock difference between processes, in ms. */
  readonly clockSkewMs: number;
  /** Refuses a nonce seen before; remembers it until the credential expires. */
  readonly replays: ReplayGuard;
  /** Now, epoch ms. Default: `Date.now()`. */
  readonly now?: number;
}

/**
 * Verifies a credential and returns the caller, or throws `UNAUTHENTICATED` (401) saying what is wrong
 * (never echoing the credential): missing, malformed, for another process, expired, claiming too long a
 * validity, wrongly signed, or replayed.
 */
export function verifyCredential(
  credential: string | undefined,
  secrets: CredentialSecrets,
  options: VerifyOptions,
): VerifiedCredential {
  if (credential === undefined || credential === '') {
    return refuse('this call carries no credential: calls between services must be authenticated', 'missing');
  }
  if (credential.length > MAX_CREDENTIAL_LENGTH) {
    return refuse(
      `the credential is malformed (longer than ${MAX_CREDENTIAL_LENGTH} characters)`,
      'malformed',
    );
  }
  // The parts are read in place (no captures): the shape is checked, so each dot is where it belongs.
  if (!CREDENTIAL.test(credential)) return refuse('the credential is malformed', 'malformed');
  const callerEnd = credential.indexOf('.', VERSION.length + 1);
  const audienceEnd = credential.indexOf('.', callerEnd + 1);
  const expiresEnd = credential.indexOf('.', audienceEnd + 1);
  const now = options.now ?? Date.now();
  const split = credential.length - SIGNED_SUFFIX;
  const payload = credential.slice(0, split);
  const keys = keysOf(secrets);
  const signed =
    sameSignature(keys.current.sign(payload), credential, split + 1) ||
    keys.previous?.verify(payload, credential.slice(split + 1)) === true;
  if (!signed) return refuse("the credential is not signed with this topology's secret", 'signature');
  const { audience } = options;
  if (audienceEnd - callerEnd - 1 !== audience.length || !credential.startsWith(audience, callerEnd + 1)) {
    const named = credential.slice(callerEnd + 1, audienceEnd);
    return refuse(`the credential is for process "${named}", not this one`, 'audience');
  }
  let expires = 0;
  for (let at = audienceEnd + 1; at < expiresEnd; at++)
    expires = expires * 10 + credential.charCodeAt(at) - 48;
  const expiresAt = expires * 1000;
  if (expiresAt + options.clockSkewMs < now) return refuse('the credential has expired', 'expired');
  if (expiresAt > now + options.maxTtlMs + options.clockSkewMs + 1000) {
    return refuse('the credential claims a longer validity than this process accepts', 'validity');
  }
  const until = expiresAt + options.clockSkewMs;
  if (!options.replays.rememberIn(credential, expiresEnd + 1, split, until, now)) {
    return refuse('the credential was used before: every call needs a fresh one', 'replayed');
  }
  return { caller: credential.slice(VERSION.length + 1, callerEnd), expiresAt };
}
