/**
 * The per-method memo that makes a default `@Cached` key cheap on a hit. Building the key of an
 * argument means writing its stable text (sorted keys, many small strings) and then hashing that fresh
 * text in the store's Map: about 2 µs for a 200-byte filter object. A hit repeats an argument seen
 * before, so the memo remembers, per argument, a private copy of it and its finished key; a call whose
 * argument equals a remembered copy (same keys in the same order, equal values) gets that key without
 * writing any text.
 *
 * The memo never changes a key: the key of a remembered argument is the one `cacheKey` computes (it is
 * computed from the copy), and equality is checked value by value, so two arguments share a key only
 * when their stable texts are equal. The small number that picks the remembered copy to compare with
 * is a fingerprint, not a key: when two arguments share it, the second simply replaces the first.
 * Object identity is never used, so mutating an argument between calls changes its key as it should.
 *
 * Only primitives, plain objects, arrays and `Date`s whose text fits the 1,024 characters of a plain
 * key are remembered; anything else (a `Map`, a class instance, a long text) takes the full path on
 * every call.
 *
 * A hot key comes in streaks (many requests for the same product or search): once a call repeats the
 * argument of the call before it, the next call is first compared with that argument's copy, without
 * the fingerprint walk (the comparison is most of the cost of a miss, so a streak that ends costs one
 * extra comparison, and arguments that change on every call never make it).
 */
import { MAX_PLAIN_ARGS, stableText, textKey } from '../keys.js';

/** Most arguments a decorated method remembers; the memo is cleared when full. */
const MEMO_SIZE = 2_000;
/** Deepest argument the memo remembers (the full path allows 64 levels). */
const MEMO_DEPTH = 16;

interface Remembered {
  /** A private copy of the argument (see {@link copyOf}). */
  readonly copy: unknown;
  /** The full key: `prefix` + the stable text of `copy`. */
  readonly key: string;
}

/** Arguments of one decorated method and their full keys. @internal */
export class KeyMemo {
  private readonly entries = new Map<number, Remembered>();
  /** The argument of the last call that had one remembered. */
  private last: Remembered | undefined = undefined;
  /** Whether that call repeated the one before it: then the next call is compared with `last` first. */
  private streak = false;

  /** `prefix` is `<scope>:<method>:`. */
  constructor(private readonly prefix: string) {}

  /** The full key of `value` (a method's only argument, or its argument list): `prefix` + `valueKey`. */
  of(value: unknown): string {
    const last = this.last;
    if (this.streak) {
      // The fingerprint walk is what rules out a `toJSON`; here an own one cannot equal the copy's
      // (a remembered argument has none that is a function), so only an inherited one is left to check.
      if (prototypeIsClean() && !inheritsToJson() && equal(value, last!.copy, 0)) return last!.key;
      this.streak = false;
    }
    const print = fingerprint(value);
    if (print < 0) return this.prefix + textKey(stableText(value));
    const found = this.entries.get(print);
    if (found !== undefined && prototypeIsClean() && equal(value, found.copy, 0)) {
      this.streak = found === last;
      this.last = found;
      return found.key;
    }
    const copy = copyOf(value);
    const text = stableText(plainOf(copy));
    const key = this.prefix + textKey(text);
    if (text.length <= MAX_PLAIN_ARGS) {
      if (this.entries.size >= MEMO_SIZE) this.entries.clear();
      const remembered = { copy, key };
      this.entries.set(print, remembered);
      this.last = remembered;
    }
    return key;
  }
}

// ---------------------------------------------------------------------------------------------------
// Fingerprint: a small number from the argument's shape and a sample of its values, or -1 when the
// memo does not take the argument. Equal arguments have equal fingerprints.
// ---------------------------------------------------------------------------------------------------

/**
 * The walk's state: the characters (and nodes) a remembered argument may still hold (its text could
 * not be shorter), and whether the walk met something the memo does not take.
 */
const state = { budget: 0, refused: false };

function fingerprint(value: unknown): number {
  // A getter of the argument could build another key: the walk's state is restored when it returns.
  const outerBudget = state.budget;
  const outerRefused = state.refused;
  state.budget = MAX_PLAIN_ARGS;
  state.refused = false;
  try {
    const print = walk(value, 0, 0x2f1a3b5d);
    return state.refused || state.budget < 0 ? -1 : print & 0x3fffffff;
  } finally {
    state.budget = outerBudget;
    state.refused = outerRefused;
  }
}

function mix(hash: number, x: number): number {
  return Math.imul(hash ^ x, 0x01000193);
}

function walk(value: unknown, depth: number, hash: number): number {
  state.budget--;
  switch (typeof value) {
    case 'string':
      return stringPrint(value, mix(hash, 1));
    case 'number':
      return mix(mix(hash, 2), (value | 0) ^ ((value * 1_048_576) | 0));
    case 'boolean':
      return mix(hash, value ? 3 : 4);
    case 'undefined':
      return mix(hash, 5);
    case 'bigint':
      return mix(hash, 6);
    case 'object': {
      if (value === null) return mix(hash, 7);
      if (depth >= MEMO_DEPTH) {
        state.refused = true;
        return 0;
      }
      if (Array.isArray(value)) {
        let h = mix(mix(hash, 8), value.length);
        for (let i = 0; i < value.length && state.budget >= 0; i++) h = walk(value[i], depth + 1, h);
        return h;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Date.prototype) return mix(mix(hash, 9), (value as Date).getTime() | 0);
      if (
        (prototype !== Object.prototype && prototype !== null) ||
        typeof (value as any).toJSON === 'function'
      ) {
        state.refused = true;
        return 0;
      }
      // A hint only (inherited enumerable keys would count too): `equal` decides with own keys.
      const record = value as Record<string, unknown>;
      let h = mix(hash, 10);
      for (const key in record) {
        if (state.budget < 0) break;
        state.budget -= key.length;
        const item = record[key];
        h =
          typeof item === 'string'
            ? stringPrint(item, mix(h, key.length))
            : walk(item, depth + 1, mix(h, key.length));
      }
      return h;
    }
    default:
      state.refused = true;
      return 0;
  }
}

/** Every character of a short string; of a longer one, its length, its ends and a spread sample. */
function stringPrint(text: string, hash: number): number {
  const n = text.length;
  state.budget -= n;
  let h = mix(hash, n);
  if (n <= 16) {
    for (let i = 0; i < n; i++) h = mix(h, text.charCodeAt(i));
    return h;
  }
  const step = (n / 8) | 0;
  for (let i = 0; i < n - 4; i += step) h = mix(h, text.charCodeAt(i));
  for (let i = n - 4; i < n; i++) h = mix(h, text.charCodeAt(i));
  return h;
}

// ---------------------------------------------------------------------------------------------------
// The copy and the comparison
// ---------------------------------------------------------------------------------------------------

/** A copied plain object: its own keys in order and their values' copies. */
class RecordCopy {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/**
 * A private copy of an argument the fingerprint took: primitives as they are, arrays as arrays, Dates as
 * Dates, plain objects as {@link RecordCopy}.
 */
function copyOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const list = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) list[i] = copyOf(value[i]);
    return list;
  }
  if (value instanceof Date) return new Date(value.getTime());
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  return new RecordCopy(
    keys,
    keys.map((key) => copyOf(record[key])),
  );
}

/** The copy as the plain data it was copied from, for its stable text. */
function plainOf(copy: unknown): unknown {
  if (Array.isArray(copy)) return copy.map(plainOf);
  if (!(copy instanceof RecordCopy)) return copy;
  // No prototype, so a key named `__proto__` is a property like any other.
  const record: Record<string, unknown> = Object.create(null);
  for (let i = 0; i < copy.keys.length; i++) record[copy.keys[i]!] = plainOf(copy.values[i]);
  return record;
}

/**
 * Whether `value` has the same stable text as `copy`, judged strictly: primitives equal (`===`), plain
 * objects with the same own keys in the same order, arrays of the same length, Dates of the same time.
 * Anything it cannot vouch for is unequal, which only costs the full path. `toJSON` was ruled out by the
 * fingerprint of the same call.
 */
function equal(value: unknown, copy: unknown, depth: number): boolean {
  if (value === copy) return true;
  if (typeof copy !== 'object' || copy === null || typeof value !== 'object' || value === null) return false;
  if (depth >= MEMO_DEPTH) return false;
  if (Array.isArray(copy)) {
    if (!Array.isArray(value) || value.length !== copy.length) return false;
    for (let i = 0; i < copy.length; i++) {
      const item = value[i];
      const kept = copy[i];
      if (item !== kept && (typeof kept !== 'object' || kept === null || !equal(item, kept, depth + 1))) {
        return false;
      }
    }
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (!(copy instanceof RecordCopy)) {
    return prototype === Date.prototype && (value as Date).getTime() === (copy as Date).getTime();
  }
  if (prototype !== Object.prototype && prototype !== null) return false;
  const record = value as Record<string, unknown>;
  const { keys, values } = copy;
  // for-in visits the own keys in the order of Object.keys; `of` made sure none is inherited.
  let i = 0;
  for (const key in record) {
    if (key !== keys[i]) return false;
    const item = record[key];
    const kept = values[i];
    // Equal primitives are the common case: no call for them.
    if (item !== kept && (typeof kept !== 'object' || kept === null || !equal(item, kept, depth + 1))) {
      return false;
    }
    i++;
  }
  return i === keys.length;
}

const EMPTY = {};

/** Whether plain objects inherit a `toJSON` function (someone added one to `Object.prototype`). */
function inheritsToJson(): boolean {
  return typeof (Object.prototype as { toJSON?: unknown }).toJSON === 'function';
}

/** Whether `Object.prototype` has no enumerable property, so for-in over a plain object sees own keys only. */
function prototypeIsClean(): boolean {
  for (const _ in EMPTY) return false;
  return true;
}
