/**
 * Copies of cached values. The memory tier keeps one private decoded copy of each value (made by the
 * codec, so it holds only what the codec produces) and hands every reader its own copy, so a caller
 * that mutates a result cannot change what the next caller reads.
 *
 * Because that private copy never changes, the memory tier plans its copy once, when the value is
 * stored ({@link copierFor}): a function specialized to the value's shape, which copies an object with
 * one spread and then only its nested objects and arrays. A read then costs about what a hand-written
 * `{ ...value, tags: [...value.tags] }` costs — several times less than decoding the stored text or
 * `structuredClone` (see the README for the figures) — and results stay ordinary mutable objects,
 * unlike freezing.
 */
import { jsonCodec } from '@blueprint/core/transport';

/** Copies one value of a known shape. */
export type Copier = (value: any) => any;

/**
 * Copies a value with the codec's semantics: plain objects, arrays, `Date`, `Map`, `Set`,
 * `Uint8Array` and primitives are copied structurally; anything else (class instances, objects with
 * `toJSON`) round-trips through the codec.
 */
export function cloneValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const length = value.length;
    const out = new Array(length);
    for (let i = 0; i < length; i++) {
      const item = value[i];
      out[i] = typeof item === 'object' && item !== null ? cloneValue(item) : item;
    }
    return out;
  }
  if (Object.getPrototypeOf(value) === Object.prototype && typeof (value as any).toJSON !== 'function') {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key in out) {
      const item = out[key];
      if (typeof item === 'object' && item !== null) out[key] = cloneValue(item);
    }
    return out;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Map) {
    const out = new Map();
    for (const [k, v] of value) out.set(cloneValue(k), cloneValue(v));
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    for (const v of value) out.add(cloneValue(v));
    return out;
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return jsonCodec.decode(jsonCodec.encode(value));
}

const identity: Copier = (value) => value;
const copyArrayOfPrimitives: Copier = (value: unknown[]) => value.slice();
const copyDate: Copier = (value: Date) => new Date(value.getTime());
const spread: Copier = (value: object) => ({ ...value });

interface Plan {
  /** Describes the shape exactly: two values with one signature are copied by the same function. */
  readonly signature: string;
  readonly copy: Copier;
}

const PRIMITIVE: Plan = { signature: 'p', copy: identity };
const GENERIC: Plan = { signature: 'g', copy: cloneValue };
const DATE: Plan = { signature: 'd', copy: copyDate };
const PRIMITIVE_ARRAY: Plan = { signature: 'a', copy: copyArrayOfPrimitives };
const MAX_DEPTH = 32;

/**
 * Returns a copier specialized to `value`'s shape. Call it once for a value that will not change (the
 * store's private copy) and use it for every read of that value.
 */
export function copierFor(value: unknown): Copier {
  return plan(value, new Map(), 0).copy;
}

function plan(value: unknown, plans: Map<string, Plan>, depth: number): Plan {
  if (typeof value !== 'object' || value === null) return PRIMITIVE;
  if (depth > MAX_DEPTH) return GENERIC;
  if (Array.isArray(value)) return planArray(value, plans, depth);
  if (value instanceof Date) return DATE;
  if (Object.getPrototypeOf(value) !== Object.prototype) return GENERIC;
  const record = value as Record<string, unknown>;
  const keys: string[] = [];
  const copiers: Copier[] = [];
  let signature = '{';
  for (const key of Object.keys(record)) {
    const child = plan(record[key], plans, depth + 1);
    signature += `${JSON.stringify(key)}:${child.signature},`;
    if (child !== PRIMITIVE) {
      keys.push(key);
      copiers.push(child.copy);
    }
  }
  signature += '}';
  return shared(plans, signature, () => objectCopier(keys, copiers));
}

function planArray(value: readonly unknown[], plans: Map<string, Plan>, depth: number): Plan {
  let element: Plan | undefined;
  let primitives = false;
  for (const item of value) {
    const child = plan(item, plans, depth + 1);
    if (child === PRIMITIVE) {
      if (element !== undefined) return GENERIC;
      primitives = true;
    } else if (primitives || child === GENERIC) return GENERIC;
    else if (element === undefined) element = child;
    else if (child.signature !== element.signature) return GENERIC;
  }
  if (element === undefined) return PRIMITIVE_ARRAY;
  const copyElement = element.copy;
  return shared(plans, `[${element.signature}]`, () => (items: unknown[]) => {
    const length = items.length;
    const out = new Array(length);
    for (let i = 0; i < length; i++) out[i] = copyElement(items[i]);
    return out;
  });
}

function shared(plans: Map<string, Plan>, signature: string, make: () => Copier): Plan {
  let found = plans.get(signature);
  if (found === undefined) {
    found = { signature, copy: make() };
    plans.set(signature, found);
  }
  return found;
}

function objectCopier(keys: readonly string[], copiers: readonly Copier[]): Copier {
  if (keys.length === 0) return spread;
  if (keys.length === 1) {
    const key = keys[0]!;
    const copy = copiers[0]!;
    return (value: Record<string, unknown>) => {
      const out = { ...value };
      out[key] = copy(value[key]);
      return out;
    };
  }
  const count = keys.length;
  return (value: Record<string, unknown>) => {
    const out = { ...value };
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      out[key] = copiers[i]!(value[key]);
    }
    return out;
  };
}
