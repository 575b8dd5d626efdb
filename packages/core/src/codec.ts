/**
 * The one codec of Blueprint: RPC bodies, event payloads and cached values all go through it, so a
 * value that survives one survives all.
 *
 * It is JSON with tagged values for what JSON cannot carry: `Date`, `bigint`, `Map`, `Set`,
 * `Uint8Array`/`Buffer`, `undefined` inside arrays and at the top level, `NaN` and `±Infinity`.
 * A tagged value is an object `{ "$bp": tag, "v": value }`; the key `$bp` is therefore reserved and
 * an object that carries it is refused when encoding.
 *
 * Decoding parses with secure-json-parse, which refuses `__proto__` keys and `constructor.prototype`
 * before anything else sees the value.
 */
import secureJson from 'secure-json-parse';
import { CodecError } from './errors.js';

/** The tag key that marks an encoded non-JSON value. */
export const CODEC_TAG = '$bp';

/** Encodes and decodes values to and from text. */
export interface Codec {
  /** Media type of the encoded text, for HTTP `content-type`. */
  readonly contentType: string;
  /** Encodes a value to text. Throws {@link CodecError} for values it cannot represent. */
  encode(value: unknown): string;
  /** Decodes text made by `encode`. Throws {@link CodecError} for malformed or polluting input. */
  decode(text: string): unknown;
  /**
   * Returns what `decode(encode(value))` returns (the same value, error or refusal), possibly without
   * making the text. Optional: {@link roundTrip} falls back to `decode(encode(value))`.
   */
  roundTrip?(value: unknown): unknown;
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      if (value.length >= 24) {
        const original = (this as Record<string, unknown>)[key];
        if (original instanceof Date) return { $bp: 'date', v: value };
      }
      return value;
    case 'object': {
      if (value === null) {
        const original = (this as Record<string, unknown>)[key];
        if (original instanceof Date) return { $bp: 'date', v: null };
        return null;
      }
      if (Array.isArray(value)) return value;
      if (value instanceof Map) return { $bp: 'map', v: Array.from(value.entries()) };
      if (value instanceof Set) return { $bp: 'set', v: Array.from(value.values()) };
      if (value instanceof Uint8Array) return { $bp: 'bytes', v: Buffer.from(value).toString('base64') };
      if (Object.hasOwn(value, CODEC_TAG)) {
        throw new CodecError(`cannot encode an object with the reserved key "${CODEC_TAG}" (at "${key}")`);
      }
      if (
        (value as { type?: unknown }).type === 'Buffer' &&
        (this as Record<string, unknown>)[key] instanceof Uint8Array
      ) {
        const bytes = (this as Record<string, Uint8Array>)[key]!;
        return { $bp: 'bytes', v: Buffer.from(bytes).toString('base64') };
      }
      return value;
    }
    case 'number':
      if (Number.isFinite(value)) return value;
      return { $bp: 'num', v: String(value) };
    case 'bigint':
      return { $bp: 'bigint', v: value.toString() };
    case 'undefined':
      if (key === '' || Array.isArray(this)) return { $bp: 'undef' };
      return undefined;
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return value;
  }
}

function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, CODEC_TAG)) return reviveTagged(record[CODEC_TAG], record.v);
  for (const key of Object.keys(record)) record[key] = revive(record[key]);
  return record;
}

function reviveTagged(tag: unknown, v: unknown): unknown {
  switch (tag) {
    case 'date':
      if (v !== null && typeof v !== 'string') throw new CodecError('invalid date: expected ISO text');
      return v === null ? new Date(Number.NaN) : new Date(v);
    case 'bigint':
      if (typeof v !== 'string' || !/^-?\d+$/.test(v))
        throw new CodecError(`invalid bigint ${JSON.stringify(v)}`);
      return BigInt(v);
    case 'map':
      if (!Array.isArray(v)) throw new CodecError('invalid map: expected an array of entries');
      return new Map(
        v.map((entry: unknown) => {
          if (!Array.isArray(entry) || entry.length !== 2) {
            throw new CodecError('invalid map entry: expected a [key, value] pair');
          }
          return [revive(entry[0]), revive(entry[1])];
        }),
      );
    case 'set':
      if (!Array.isArray(v)) throw new CodecError('invalid set: expected an array of values');
      return new Set(v.map(revive));
    case 'bytes':
      if (typeof v !== 'string') throw new CodecError('invalid bytes: expected base64 text');
      return new Uint8Array(Buffer.from(v, 'base64'));
    case 'undef':
      return undefined;
    case 'num':
      if (v !== 'NaN' && v !== 'Infinity' && v !== '-Infinity') {
        throw new CodecError(
          `invalid number ${JSON.stringify(v)}: expected "NaN", "Infinity" or "-Infinity"`,
        );
      }
      return Number(v);
    default:
      throw new CodecError(
        `unknown codec tag ${JSON.stringify(tag)} under the reserved key "${CODEC_TAG}"; this build knows date, bigint, map, set, bytes, undef, num`,
      );
  }
}

/**
 * Deepest nesting of arrays and objects {@link parseJsonSafely} (and so every decode) accepts: 128 levels.
 * Deeper text is refused with a coded error before it is parsed, so no recursive walk over a value
 * (reviving tagged values, a schema, a logger) can overflow the stack.
 */
export const MAX_JSON_DEPTH = 128;

/** True when arrays and objects in `text` nest deeper than `limit`; strings are skipped. */
function nestsDeeperThan(text: string, limit: number): boolean {
  // Each level opens a bracket: shorter text cannot nest that deep.
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: one not preceded by an odd number of backslashes.
      for (;;) {
        const quote = text.indexOf('"', i + 1);
        if (quote === -1) return false;
        let before = quote - 1;
        while (text.charCodeAt(before) === 0x5c) before--;
        i = quote;
        if ((quote - 1 - before) % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Parses JSON text safely: refuses `__proto__` keys and `constructor.prototype`, and nesting deeper
 * than {@link MAX_JSON_DEPTH}, and throws a {@link CodecError} (never a bare `SyntaxError`) for
 * malformed text.
 *
 * Text that cannot spell either key (neither word, and no `\u` escape that could spell them) parses
 * to exactly what `JSON.parse` returns, so it skips secure-json-parse's scans: the common case on
 * every RPC body, event and cached value.
 */
export function parseJsonSafely(text: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new CodecError(
      `JSON nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects; send a flatter value`,
      { details: { maxDepth: MAX_JSON_DEPTH } },
    );
  }
  try {
    if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) {
      return JSON.parse(text);
    }
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CodecError(`malformed or unsafe JSON: ${reason}`, { cause: error });
  }
}

/** Deeper values are not checked for {@link isPlainJson}; they take the codec's replacer. */
const MAX_PLAIN_DEPTH = 32;

/**
 * True when `JSON.stringify(value)` gives what the replacer would give: only strings, booleans, finite
 * numbers, null, arrays and plain objects without the reserved key or a `toJSON`. Anything else (dates,
 * bigints, maps, undefined, ...) answers false. Checking is cheaper than a replacer call per value.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        if (key === CODEC_TAG || key === 'toJSON') return false;
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Returned by {@link copyPlain} for a value it leaves to the text round trip. */
const NOT_PLAIN: unique symbol = Symbol('blueprint.codec.notPlain');

/** `Date.prototype.toJSON` as this module found it: a Date that still uses it encodes as its ISO text. */
const dateToJson = Date.prototype.toJSON;

/**
 * A copy of `value` equal to what the text round trip gives, for values made only of strings, booleans,
 * finite numbers, null, arrays, plain objects and plain `Date`s (a new `Date` of the same time: the ISO
 * text keeps every millisecond, and an invalid Date encodes as `null` and comes back invalid);
 * {@link NOT_PLAIN} for anything else, and for what decoding treats apart (the reserved key, `toJSON`,
 * `__proto__` and `constructor` keys, nesting deeper than {@link MAX_PLAIN_DEPTH}, a Date subclass or a
 * Date with its own `toJSON`), which then takes the text round trip and its checks. Each value is read
 * once.
 */
function copyPlain(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return NOT_PLAIN;
      return value === 0 ? 0 : value; // -0 encodes as 0
    case 'object': {
      if (value === null) return null;
      if (depth > MAX_PLAIN_DEPTH) return NOT_PLAIN;
      if (value instanceof Date) {
        if (Object.getPrototypeOf(value) !== Date.prototype || value.toJSON !== dateToJson) return NOT_PLAIN;
        return new Date(value.getTime());
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
      if (Array.isArray(value)) {
        const copy = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = copyPlain(value[i], depth + 1);
          if (item === NOT_PLAIN) return NOT_PLAIN;
          copy[i] = item;
        }
        return copy;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (key === CODEC_TAG || key === '__proto__' || key === 'constructor') return NOT_PLAIN;
        const item = copyPlain((value as Record<string, unknown>)[key], depth + 1);
        if (item === NOT_PLAIN) return NOT_PLAIN;
        copy[key] = item;
      }
      return copy;
    }
    default:
      return NOT_PLAIN;
  }
}

/** The default codec: tagged JSON as described in the module doc. */
export const jsonCodec: Codec = {
  contentType: 'application/json',
  encode(value: unknown): string {
    if (isPlainJson(value, 0)) return JSON.stringify(value);
    try {
      return JSON.stringify(value, replacer) as string;
    } catch (error) {
      if (error instanceof CodecError) throw error;
      throw new CodecError(`value cannot be encoded: ${(error as Error).message}`, { cause: error });
    }
  },
  decode(text: string): unknown {
    const parsed = parseJsonSafely(text);
    return text.includes(`"${CODEC_TAG}"`) ? revive(parsed) : parsed;
  },
  roundTrip(value: unknown): unknown {
    const copy = copyPlain(value, 0);
    return copy === NOT_PLAIN ? jsonCodec.decode(jsonCodec.encode(value)) : copy;
  },
};

/**
 * Round-trips a value through the codec: what a remote caller would receive. A plain JSON value (Dates
 * included) is copied without making text (about 10x cheaper on a small nested object); the copy is what decoding
 * the text would give.
 */
export function roundTrip<T>(value: T, codec: Codec = jsonCodec): T {
  return (codec.roundTrip !== undefined ? codec.roundTrip(value) : codec.decode(codec.encode(value))) as T;
}
