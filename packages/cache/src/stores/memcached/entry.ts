/**
 * What the memcached store writes: item keys that memcached accepts, entry texts with their header,
 * and expiry times in memcached's terms.
 *
 * An entry is `<freshUntil>,<expiresAt>|<encoded value>` (the Redis store's layout), or, when tagged,
 * `<freshUntil>,<expiresAt>,<n>|<tags><encoded value>` where `<tags>` is the JSON text (`n` characters)
 * of the `[tag, generation]` pairs the entry was written under.
 */
import { createHash } from 'node:crypto';

/** Memcached's longest key, in bytes. */
export const MAX_KEY_BYTES = 250;

/** Memcached's rule: an expiry above 30 days (in seconds) is an absolute Unix time, not a relative one. */
export const RELATIVE_EXPIRY_LIMIT_S = 60 * 60 * 24 * 30;

/**
 * Bytes memcached adds to an item besides its key and value (item header, CAS, suffix, line ends),
 * rounded up: a value fits when key + value + this is at most the item size limit.
 */
export const ITEM_OVERHEAD_BYTES = 64;

/**
 * The memcached key of `name` under `prefix`: `prefix + name` when memcached accepts it as it is (at most
 * 250 bytes, no spaces or control characters), else `prefix + "h:" + SHA-256(name)` in base64url.
 * `name` already carries its kind (`k:`, `t:`, `l:`), so a hashed key never meets a plain one.
 */
export function itemKey(prefix: string, name: string): string {
  const key = prefix + name;
  if (key.length <= MAX_KEY_BYTES / 3 || Buffer.byteLength(key) <= MAX_KEY_BYTES) {
    let safe = true;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code <= 0x20 || code === 0x7f) {
        safe = false;
        break;
      }
    }
    if (safe) return key;
  }
  return `${prefix}h:${createHash('sha256').update(name).digest('base64url')}`;
}

/**
 * The `expires` memcached is given for an entry that must live until `expiresAt` (epoch ms): relative
 * seconds up to 30 days, an absolute Unix time beyond (memcached reads any larger number that way), `0`
 * (never) past what 32 bits hold. It is rounded up and one second longer than needed, because memcached
 * counts whole seconds on its own clock; the store checks `expiresAt` itself on every read, so an entry
 * never outlives it.
 */
export function memcachedExpiry(expiresAt: number, now: number): number {
  const relative = Math.ceil((expiresAt - now) / 1000) + 1;
  if (relative <= RELATIVE_EXPIRY_LIMIT_S) return relative;
  const absolute = Math.ceil(expiresAt / 1000) + 1;
  return absolute > 0xffffffff ? 0 : absolute;
}

/** An entry read back: its times, the tag generations it was written under, and the encoded value. */
export interface ParsedEntry {
  readonly freshUntil: number;
  readonly expiresAt: number;
  /** `[tag, generation]` pairs; empty when untagged. */
  readonly tags: readonly (readonly [string, string])[];
  readonly encoded: string;
}

/** The text of an entry. */
export function formatEntry(
  freshUntil: number,
  expiresAt: number,
  tags: readonly (readonly [string, string])[],
  encoded: string,
): string {
  if (tags.length === 0) return `${freshUntil},${expiresAt}|${encoded}`;
  const list = JSON.stringify(tags);
  return `${freshUntil},${expiresAt},${list.length}|${list}${encoded}`;
}

const NO_TAGS: readonly (readonly [string, string])[] = Object.freeze([]);

/** Longest number in an entry header: 15 digits stay exact in a double (epoch ms have 13). */
const MAX_DIGITS = 15;

/**
 * Parses an entry's text in one pass over its header; `undefined` when it is not one this store wrote
 * (times of 1–15 digits; a tag list of the stated length that is JSON `[tag, generation]` pairs).
 */
export function parseEntry(text: string): ParsedEntry | undefined {
  const n = text.length;
  let i = 0;
  let freshUntil = 0;
  for (; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code === 44) break;
    if (code < 48 || code > 57 || i >= MAX_DIGITS) return undefined;
    freshUntil = freshUntil * 10 + code - 48;
  }
  if (i === 0 || i === n) return undefined;
  const expiresStart = ++i;
  let expiresAt = 0;
  let code = 0;
  for (; i < n; i++) {
    code = text.charCodeAt(i);
    if (code === 124 || code === 44) break;
    if (code < 48 || code > 57 || i - expiresStart >= MAX_DIGITS) return undefined;
    expiresAt = expiresAt * 10 + code - 48;
  }
  if (i === expiresStart || i === n) return undefined;
  if (code === 124) return { freshUntil, expiresAt, tags: NO_TAGS, encoded: text.slice(i + 1) };
  const lengthStart = ++i;
  let length = 0;
  for (; i < n; i++) {
    code = text.charCodeAt(i);
    if (code === 124) break;
    if (code < 48 || code > 57 || i - lengthStart >= MAX_DIGITS) return undefined;
    length = length * 10 + code - 48;
  }
  if (i === lengthStart || i === n) return undefined;
  if (i + 1 + length > n) return undefined;
  const tags = parseTags(text.slice(i + 1, i + 1 + length));
  if (tags === undefined) return undefined;
  return { freshUntil, expiresAt, tags, encoded: text.slice(i + 1 + length) };
}

function parseTags(text: string): [string, string][] | undefined {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list) || list.length === 0) return undefined;
  for (const pair of list) {
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    if (typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined;
  }
  return list as [string, string][];
}
