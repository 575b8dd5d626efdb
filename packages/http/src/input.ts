/**
 * How a request becomes a contract method's input: path parameters and the query (strings) are coerced
 * to what the input schema's fields expect, then put together with the JSON body. The result is handed to
 * the schema as it is: coercion never makes a wrong value right, it only turns `"2"` into `2` where the
 * field is a number, so the schema's own messages name what is wrong.
 */
import type { z } from 'zod';

/** Turns one string (a path parameter or query value) into what a field expects, or leaves it. */
export type Coercer = (value: string) => unknown;

/** What a route knows about its input schema, worked out once when the routes are defined. */
export interface InputPlan {
  /** `void`: the method takes no input; `object`: fields by name; `other`: a schema that is not an object. */
  readonly kind: 'void' | 'object' | 'other';
  /** The object's fields (kind `object`), with their coercers; `array` fields take repeated query keys. */
  readonly fields: ReadonlyMap<string, { readonly coerce: Coercer; readonly array: boolean }>;
  /** Top-level body fields JSON cannot carry as such (dates, bigints): strings there are coerced too. */
  readonly bodyCoerced: ReadonlyMap<string, Coercer>;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly shape?: Record<string, z.ZodType>;
  readonly values?: readonly unknown[];
  readonly entries?: Record<string, unknown>;
  readonly getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** The schema under optional/nullable/default/... wrappers and the input side of pipes. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 32; i++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) current = def.in;
    else if (def.type === 'lazy' && def.getter !== undefined) current = def.getter();
    else return current;
  }
  return current;
}

const NUMBER = /^-?(?:\d+|\d*\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;
const keep: Coercer = (value) => value;

const toNumber: Coercer = (value) => (NUMBER.test(value) ? Number(value) : value);
const toBigInt: Coercer = (value) => (INTEGER.test(value) ? BigInt(value) : value);
const toBoolean: Coercer = (value) => (value === 'true' ? true : value === 'false' ? false : value);
const toDate: Coercer = (value) => {
  const date = new Date(value);
  return value !== '' && !Number.isNaN(date.getTime()) ? date : value;
};
const toNull: Coercer = (value) => (value === 'null' ? null : value);

/** The coercer of a scalar field. Unions try their options' coercers in order; a refused value stays a string. */
function coercerOf(schema: z.ZodType): Coercer {
  const inner = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case 'number':
      return toNumber;
    case 'bigint':
      return toBigInt;
    case 'boolean':
      return toBoolean;
    case 'date':
      return toDate;
    case 'null':
      return toNull;
    case 'literal':
    case 'enum': {
      const values = def.values ?? Object.values(def.entries ?? {});
      const numbers = values.some((v) => typeof v === 'number');
      const booleans = values.some((v) => typeof v === 'boolean');
      return (value) => {
        if (values.includes(value)) return value;
        if (numbers && NUMBER.test(value) && values.includes(Number(value))) return Number(value);
        if (booleans) return toBoolean(value);
        return value;
      };
    }
    case 'union': {
      const options = (def.options ?? []).map((option) => ({ option, coerce: coercerOf(option) }));
      return (value) => {
        for (const { option, coerce } of options) {
          const coerced = coerce(value);
          if (option.safeParse(coerced).success) return coerced;
        }
        return value;
      };
    }
    default:
      return keep;
  }
}

/** Works out how a request maps onto `input`. */
export function planInput(input: z.ZodType): InputPlan {
  const inner = unwrap(input);
  const def = defOf(inner);
  if (def.type === 'void' || def.type === 'undefined') {
    return { kind: 'void', fields: new Map(), bodyCoerced: new Map() };
  }
  if (def.type !== 'object' || def.shape === undefined) {
    return { kind: 'other', fields: new Map(), bodyCoerced: new Map() };
  }
  const fields = new Map<string, { coerce: Coercer; array: boolean }>();
  const bodyCoerced = new Map<string, Coercer>();
  for (const [name, field] of Object.entries(def.shape)) {
    const fieldDef = defOf(unwrap(field));
    if (fieldDef.type === 'date') bodyCoerced.set(name, toDate);
    if (fieldDef.type === 'bigint') bodyCoerced.set(name, toBigInt);
    if (fieldDef.type === 'array' && fieldDef.element !== undefined) {
      fields.set(name, { coerce: coercerOf(fieldDef.element), array: true });
    } else fields.set(name, { coerce: coercerOf(field), array: false });
  }
  return { kind: 'object', fields, bodyCoerced };
}

/** A query as the adapters hand it over: repeated keys as arrays. */
export type QueryValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * A raw query string (`a=1&b=2&b=3`, without the `?`) as {@link QueryValues}: repeated keys as arrays.
 * The same parsing on every adapter that reads the raw URL (Express, Lambda).
 */
export function queryOf(raw: string | undefined): QueryValues {
  // No prototype: a `__proto__` key is a key like any other here (coerceQuery drops it).
  const query: Record<string, string | string[]> = Object.create(null);
  if (raw === undefined || raw === '') return query;
  for (const [key, value] of new URLSearchParams(raw)) {
    const known = query[key];
    if (known === undefined) query[key] = value;
    else if (Array.isArray(known)) known.push(value);
    else query[key] = [known, value];
  }
  return query;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function coerceValue(plan: InputPlan, name: string, value: string | readonly string[]): unknown {
  const field = plan.fields.get(name);
  if (field === undefined) return value;
  if (typeof value === 'string') return field.array ? [field.coerce(value)] : field.coerce(value);
  return value.map(field.coerce);
}

/** The path parameters, coerced. */
export function coerceParams(
  plan: InputPlan,
  params: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in params) out[name] = coerceValue(plan, name, params[name]!);
  return out;
}

/** The query, coerced; unsafe keys (`__proto__`, `constructor`, `prototype`) are dropped. */
export function coerceQuery(plan: InputPlan, query: QueryValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name in query) {
    const value = query[name];
    if (value === undefined || UNSAFE_KEYS.has(name)) continue;
    out[name] = coerceValue(plan, name, value);
  }
  return out;
}

/** A body whose date and bigint fields, sent as strings, are turned into what the schema expects. */
function coerceBody(plan: InputPlan, body: unknown): unknown {
  if (!isPlainObject(body)) return body;
  let out: Record<string, unknown> | undefined;
  for (const [name, coerce] of plan.bodyCoerced) {
    const value = body[name];
    if (typeof value !== 'string') continue;
    out ??= { ...body };
    out[name] = coerce(value);
  }
  return out ?? body;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a request brings: its parameters, query and (for POST, PUT, PATCH) its parsed body. */
export interface RequestParts {
  readonly params: Readonly<Record<string, string>>;
  readonly query: QueryValues;
  /** The parsed JSON body; undefined when there is none or the method takes no body. */
  readonly body: unknown;
}

/**
 * The input handed to the method's schema. `GET`/`DELETE`: the query's and the path's fields
 * (the path wins). `POST`/`PUT`/`PATCH`: the body's fields and the path's (the path wins); a body that
 * is not an object goes to the schema as it is, which refuses it. `void` methods get `undefined`.
 */
export function buildInput(plan: InputPlan, withBody: boolean, parts: RequestParts): unknown {
  if (plan.kind === 'void') return undefined;
  const hasParams = Object.keys(parts.params).length > 0;
  if (withBody) {
    const body = plan.bodyCoerced.size > 0 ? coerceBody(plan, parts.body) : parts.body;
    if (!hasParams) return body;
    const params = coerceParams(plan, parts.params);
    if (body === undefined) return params;
    return isPlainObject(body) ? { ...body, ...params } : body;
  }
  if (plan.kind === 'other') return undefined;
  const query = coerceQuery(plan, parts.query);
  return hasParams ? { ...query, ...coerceParams(plan, parts.params) } : query;
}
