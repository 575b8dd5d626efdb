/**
 * Cache keys. The default key of a `@Cached` method is `<scope>:<method>:<args>`, where `scope` is the
 * service name (contract methods) or the class name (providers), and `<args>` is a stable text of the
 * arguments: the same for objects whose keys are in another order. Texts up to 1,024 characters are the
 * key as they are — readable in `redis-cli`, and two different arguments never share a key; longer ones
 * are replaced by their SHA-256 digest (a collision would need a SHA-256 collision). Hashing is left to
 * the rare long argument because it costs microseconds per call. `@Cached` finds the key of an argument
 * it saw before without writing the text again (`internal/key-memo.ts`); the key is the same.
 */
import { createHash } from 'node:crypto';
import { CacheOptionsError } from './errors.js';

/** Argument texts longer than this are replaced by their digest. @internal */
export const MAX_PLAIN_ARGS = 1024;
const MAX_DEPTH = 64;

/**
 * The key `@Cached` uses for a call: `<scope>:<method>:<stable args>`. Use it to delete one entry of a
 * decorated method by hand. For contract methods the arguments are `[input]` (the call context is not
 * part of the key).
 *
 * @example
 * await cache.delete(cacheKey('products', 'get', [{ id: 'p1' }]));
 */
export function cacheKey(scope: string, method: string, args: readonly unknown[]): string {
  return `${scope}:${method}:${argsKey(args)}`;
}

/**
 * The key part of a list of arguments: the stable text of the only argument (or of the list), or its
 * SHA-256 digest when longer than 1,024 characters.
 */
export function argsKey(args: readonly unknown[]): string {
  return valueKey(args.length === 1 ? args[0] : args);
}

/** The key part of one value: its stable text, or its digest when longer than 1,024 characters. */
export function valueKey(value: unknown): string {
  return textKey(stableText(value, 0));
}

/** The key part of a stable text: the text itself, or its digest when longer than 1,024 characters. @internal */
export function textKey(text: string): string {
  return text.length <= MAX_PLAIN_ARGS ? text : `#${createHash('sha256').update(text).digest('base64url')}`;
}

/**
 * A text that is equal for equal values: object keys are sorted, `Map` entries and `Set` items too;
 * types JSON cannot tell apart (`undefined`, `bigint`, `Date`, `NaN`) keep distinct texts.
 */
export function stableText(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return Number.isFinite(value) ? `${value}` : `#${value}`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return '#u';
    case 'bigint':
      return `${value}n`;
    case 'object':
      if (value === null) return 'null';
      if (depth > MAX_DEPTH) {
        throw new CacheOptionsError(
          `cannot build a cache key: the arguments nest deeper than ${MAX_DEPTH} levels (a cycle?); give @Cached a key function`,
        );
      }
      if (Object.getPrototypeOf(value) === Object.prototype && typeof (value as any).toJSON !== 'function') {
        return recordText(value as Record<string, unknown>, depth + 1);
      }
      return objectText(value, depth + 1);
    default:
      throw new CacheOptionsError(
        `cannot build a cache key from a ${typeof value} argument; give @Cached a key function, e.g. { key: (input) => \`product:\${input.id}\` }`,
      );
  }
}

const NEEDS_ESCAPE = /["\\]/;

/** Quotes a string so that no two strings share a text (only `"` and a backslash need escaping for that). */
function quote(text: string): string {
  if (text.length > 32) return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 || code === 92) return JSON.stringify(text);
  }
  return `"${text}"`;
}

function recordText(record: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = record[key];
    if (item === undefined || typeof item === 'function') continue;
    out += `${first ? '' : ','}${quote(key)}:${stableText(item, depth)}`;
    first = false;
  }
  return `${out}}`;
}

function objectText(value: object, depth: number): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + stableText(value[i], depth);
    return `${out}]`;
  }
  if (value instanceof Date) return `#d${Number.isNaN(value.getTime()) ? 'NaN' : value.toISOString()}`;
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${stableText(k, depth)}=>${stableText(v, depth)}`).sort();
    return `#m{${entries.join(',')}}`;
  }
  if (value instanceof Set)
    return `#s[${[...value]
      .map((v) => stableText(v, depth))
      .sort()
      .join(',')}]`;
  if (value instanceof Uint8Array) return `#b${Buffer.from(value).toString('base64')}`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return stableText((value as { toJSON(): unknown }).toJSON(), depth);
  }
  return recordText(value as Record<string, unknown>, depth);
}
