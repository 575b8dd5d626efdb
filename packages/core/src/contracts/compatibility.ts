/**
 * Contract versions during a rolling update: old and new processes call each other. Each contract has a
 * description (its methods' JSON Schemas, from zod) and a fingerprint of it; when a caller and a server
 * disagree, these rules decide whether the call may go ahead:
 *
 * - a method the caller calls must exist on the server;
 * - input: every field the server requires, the caller must send (declared and required); a field both
 *   declare must have a type the server accepts; an enum the caller may send must be within the server's;
 * - output: every field the caller requires, the server must return; types and enums the other way round.
 *
 * Compatible changes pass: a new optional input field, a new method, a new output field, a new enum
 * value on input. Anything the rules do not understand (unions, refinements) must be equal.
 *
 * The rules compare one reader's schema with one writer's ({@link schemaIncompatibilities}): the events
 * package applies them to event payloads, the consumer reading what the publisher writes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AnyContract } from '../contract.js';

/** A JSON Schema as zod writes it (a subset is compared; the rest must match exactly). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** What a process knows of one contract: its version, fingerprint and the schemas of its methods. */
export interface ContractDescription {
  readonly name: string;
  readonly version: number;
  /** SHA-256 (16 hex digits) of the methods' schemas: equal fingerprints need no comparison. */
  readonly fingerprint: string;
  readonly methods: Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema }>>;
}

const descriptions = new WeakMap<AnyContract, ContractDescription>();

/**
 * The JSON Schema of a zod schema as the rules read it: what a value must look like before parsing
 * (`io: 'input'`, what travels) or after (`'output'`). Parts JSON Schema cannot say (dates, bigints,
 * refinements) accept anything; a schema zod cannot convert at all is `{ description: 'not representable' }`.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  try {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete out.$schema;
    return out;
  } catch {
    return { description: 'not representable' };
  }
}

/** The fingerprint of JSON values (schemas): SHA-256 of their canonical JSON, 16 hex digits. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 16);
}

/** Stable JSON: object keys sorted, so equal schemas print equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The description of a contract (computed once per contract). */
export function describeContract(contract: AnyContract): ContractDescription {
  const known = descriptions.get(contract);
  if (known !== undefined) return known;
  const methods: Record<string, { input: JsonSchema; output: JsonSchema }> = {};
  for (const method of contract.methodNames) {
    const definition = contract.methods[method]!;
    // What a caller sends is the input before parsing; what it receives, the output before decoding.
    methods[method] = {
      input: jsonSchemaOf(definition.input, 'input'),
      output: jsonSchemaOf(definition.output, 'input'),
    };
  }
  const fingerprint = fingerprintOf(methods);
  const description: ContractDescription = {
    name: contract.name,
    version: contract.version,
    fingerprint,
    methods,
  };
  descriptions.set(contract, description);
  return description;
}

const typesOf = (schema: JsonSchema): string[] | undefined => {
  const type = schema.type;
  if (typeof type === 'string') return type === 'integer' ? ['integer'] : [type];
  if (Array.isArray(type)) return type as string[];
  return undefined;
};

/** Who reads and who writes the values two schemas compare, as the sentences of the differences name them. */
export interface CompatibilityParties {
  /** The side whose schema must accept, e.g. `"the server"` (of an input), `"the consumer"`. */
  readonly reader: string;
  /** The side that writes the values, e.g. `"the caller"`, `"the publisher"`. */
  readonly writer: string;
  /** What the writer does with a field, as in "does not send it": `"send"`, `"return"`. */
  readonly verb: string;
  /** The same verb after a subject: `"sends"`, `"returns"`. */
  readonly verbs: string;
}

const INPUT: CompatibilityParties = {
  reader: 'the server',
  writer: 'the caller',
  verb: 'send',
  verbs: 'sends',
};
const OUTPUT: CompatibilityParties = {
  reader: 'the caller',
  writer: 'the server',
  verb: 'return',
  verbs: 'returns',
};

/**
 * The differences that make values written with `writer`'s schema fail `reader`'s, each a sentence naming
 * the place from `at` (`"order.placed payload.total: ..."`); empty when every value the writer may write,
 * the reader accepts (within the rules above). Throws on schemas it cannot read (not what zod writes).
 */
export function schemaIncompatibilities(
  reader: JsonSchema,
  writer: JsonSchema,
  at: string,
  parties: CompatibilityParties,
): string[] {
  const comparison: Comparison = { problems: [], flow: parties };
  accepts(reader, writer, at, comparison);
  return comparison.problems;
}

/** One comparison of schemas: the parties it compares between, and the differences found so far. */
interface Comparison {
  readonly flow: CompatibilityParties;
  readonly problems: string[];
}

/** Adds to the comparison where a value `narrow` accepts, `wide` does not (within the rules above). */
function accepts(wide: JsonSchema, narrow: JsonSchema, at: string, comparison: Comparison): void {
  const { flow, problems } = comparison;
  if (Object.keys(wide).length === 0) return; // anything
  const wideTypes = typesOf(wide);
  const narrowTypes = typesOf(narrow);
  if (wideTypes === undefined || narrowTypes === undefined) {
    if (canonical(wide) !== canonical(narrow)) problems.push(`${at}: the schemas differ`);
    return;
  }
  const accepted = (t: string) => wideTypes.includes(t) || (t === 'integer' && wideTypes.includes('number'));
  const refused = narrowTypes.filter((t) => !accepted(t));
  if (refused.length > 0) {
    problems.push(
      `${at}: ${flow.writer} ${flow.verbs} ${refused.join(' or ')}, the other side takes ${wideTypes.join(' or ')}`,
    );
    return;
  }
  if (Array.isArray(wide.enum)) {
    const allowed = new Set((wide.enum as unknown[]).map((v) => JSON.stringify(v)));
    const values = Array.isArray(narrow.enum) ? (narrow.enum as unknown[]) : undefined;
    const outside =
      values === undefined
        ? ['(any value)']
        : values.filter((v) => !allowed.has(JSON.stringify(v))).map(String);
    if (outside.length > 0) problems.push(`${at}: ${outside.join(', ')} not accepted by the other side`);
  }
  if (wideTypes.includes('object')) objectAccepts(wide, narrow, at, comparison);
  if (wideTypes.includes('array') && wide.items !== undefined && narrow.items !== undefined) {
    accepts(wide.items as JsonSchema, narrow.items as JsonSchema, `${at}[]`, comparison);
  }
}

function objectAccepts(wide: JsonSchema, narrow: JsonSchema, at: string, comparison: Comparison): void {
  const { flow, problems } = comparison;
  const wideProps = (wide.properties ?? {}) as Record<string, JsonSchema>;
  const narrowProps = (narrow.properties ?? {}) as Record<string, JsonSchema>;
  const wideRequired = new Set((wide.required ?? []) as string[]);
  const narrowRequired = new Set((narrow.required ?? []) as string[]);
  for (const field of wideRequired) {
    if (!narrowRequired.has(field)) {
      problems.push(
        `${at}.${field}: ${flow.reader} requires it, ${flow.writer} ${Object.hasOwn(narrowProps, field) ? 'may leave it out' : `does not ${flow.verb} it`}`,
      );
    }
  }
  for (const [field, schema] of Object.entries(narrowProps)) {
    const other = Object.hasOwn(wideProps, field) ? wideProps[field] : undefined;
    if (other === undefined) {
      if (wide.additionalProperties === false)
        problems.push(`${at}.${field}: the other side refuses unknown fields`);
      continue;
    }
    accepts(other, schema, `${at}.${field}`, comparison);
  }
}

/**
 * The differences that make a caller's contract and a server's incompatible (for `only` that method),
 * each a sentence naming the method and field; empty when compatible.
 */
export function incompatibilities(
  caller: ContractDescription,
  server: ContractDescription,
  only?: string,
): string[] {
  if (caller.fingerprint === server.fingerprint) return [];
  const problems: string[] = [];
  const inputs: Comparison = { flow: INPUT, problems };
  const outputs: Comparison = { flow: OUTPUT, problems };
  for (const [method, expected] of Object.entries(caller.methods)) {
    if (only !== undefined && method !== only) continue;
    const actual = Object.hasOwn(server.methods, method) ? server.methods[method] : undefined;
    if (actual === undefined) {
      problems.push(`${method}: the server has no such method`);
      continue;
    }
    accepts(actual.input, expected.input, `${method} input`, inputs);
    accepts(expected.output, actual.output, `${method} output`, outputs);
  }
  return problems;
}
