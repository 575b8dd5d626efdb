/**
 * Event schemas during a rolling update: old and new versions of a service publish and consume the same
 * event. Every envelope carries its `version` and the `fingerprint` of the publisher's payload schema;
 * the rules are core's contract rules, the consumer reading what the publisher writes:
 *
 * - every field the consumer requires, the publisher must send; a field both declare must have a type the
 *   consumer accepts; an enum value the publisher may send must be within the consumer's;
 * - a consumer whose schema refuses unknown fields (`z.strictObject`) refuses new ones.
 *
 * At run time a consumer holds only the publisher's fingerprint, not its schema: an event whose payload
 * its own schema refuses, published with another fingerprint, is judged on the payload itself (the
 * missing field, the type sent, the value outside the enum) and dead-lettered as `CONTRACT_MISMATCH`;
 * one that fits is handled, whatever the fingerprints. {@link checkEventCompatibility} applies the rules
 * to two definitions, for CI.
 */
import {
  type CompatibilityParties,
  isBlueprintError,
  type JsonSchema,
  schemaIncompatibilities,
  type ValidationIssue,
} from '@blueprint/core';
import type { AnyEvent } from './define-event.js';
import type { EventEnvelope } from './envelope.js';
import { EventsDefinitionError } from './errors.js';
import { describeEvent } from './event-fingerprint.js';
import type { DeadLetterReason } from './transport/event-transport.js';

const PARTIES: CompatibilityParties = {
  reader: 'the consumer',
  writer: 'the publisher',
  verb: 'send',
  verbs: 'sends',
};

/**
 * The differences that make events published with `publisher` fail a consumer handling `consumer` (two
 * definitions of one event), each a sentence naming the field; empty when every payload the publisher may
 * send, the consumer takes. A different `version` is one difference: a consumer takes only the versions
 * its handler lists. For CI, both ways when either side may be updated first:
 *
 * @example
 * expect(checkEventCompatibility(OrderPlacedBefore, OrderPlaced)).toEqual([]); // old consumers, new events
 * expect(checkEventCompatibility(OrderPlaced, OrderPlacedBefore)).toEqual([]); // new consumers, old events
 */
export function checkEventCompatibility(consumer: AnyEvent, publisher: AnyEvent): string[] {
  if (consumer.name !== publisher.name) {
    throw new EventsDefinitionError(
      `checkEventCompatibility compares two definitions of one event; got "${consumer.name}" and "${publisher.name}"`,
    );
  }
  if (consumer.version !== publisher.version) {
    return [
      `${consumer.name}: the publisher sends v${publisher.version}, the consumer takes v${consumer.version}; a consumer takes only the versions its handler lists`,
    ];
  }
  return schemaIncompatibilities(
    describeEvent(consumer).schema,
    describeEvent(publisher).schema,
    `${consumer.name} payload`,
    PARTIES,
  );
}

/**
 * Why an envelope whose payload `event`'s schema refused (`error`, the `VALIDATION_FAILED` of the
 * parse) was published by an incompatible version of the event: a `contract-mismatch` reason naming both
 * versions and the differences. Undefined when the envelope names no fingerprint or the consumer's own,
 * or when nothing the rules read explains the refusal (a refinement): the payload is then plainly invalid.
 */
export function payloadMismatch(
  envelope: EventEnvelope,
  event: AnyEvent,
  error: unknown,
  group: string,
): DeadLetterReason | undefined {
  const published = envelope.fingerprint;
  if (published === undefined) return undefined;
  const own = describeEvent(event);
  if (published === own.fingerprint || !isBlueprintError(error)) return undefined;
  const issues = (error.details as { issues?: readonly ValidationIssue[] } | undefined)?.issues ?? [];
  const differences = payloadDifferences(own.schema, envelope.payload, issues, `${event.name} payload`);
  if (differences.length === 0) return undefined;
  const publisher = { version: envelope.version, fingerprint: published };
  const consumer = { version: event.version, fingerprint: own.fingerprint };
  return {
    kind: 'contract-mismatch',
    code: 'CONTRACT_MISMATCH',
    message: `event "${event.name}" ${envelope.id} was published with ${event.name} v${publisher.version} (${published}) and group "${group}" handles v${consumer.version} (${own.fingerprint}), and they are incompatible: ${differences.join('; ')}; it is not retried: finish the rolling update (or deploy a schema compatible with both), then replay it`,
    details: { event: event.name, group, publisher, consumer, differences },
  };
}

/** The issues of a refused payload that a schema difference explains, in the words of the rules. */
function payloadDifferences(
  schema: JsonSchema,
  payload: unknown,
  issues: readonly ValidationIssue[],
  at: string,
): string[] {
  const differences: string[] = [];
  for (const issue of issues) {
    const where = `${at}${issue.path.map((segment) => (typeof segment === 'number' ? '[]' : `.${segment}`)).join('')}`;
    const value = valueAt(payload, issue.path);
    const expected = schemaAt(schema, issue.path);
    switch (issue.code) {
      case 'invalid_type':
        differences.push(
          value === undefined
            ? `${where}: ${PARTIES.reader} requires it, ${PARTIES.writer} does not ${PARTIES.verb} it`
            : `${where}: ${PARTIES.writer} ${PARTIES.verbs} ${typeName(value)}, the other side takes ${typesOf(expected) ?? 'another type'}`,
        );
        break;
      case 'invalid_value':
        differences.push(`${where}: ${String(value)} not accepted by the other side`);
        break;
      case 'unrecognized_keys': {
        const known = (expected?.properties ?? {}) as Record<string, unknown>;
        const fields =
          typeof value === 'object' && value !== null
            ? Object.keys(value).filter((k) => !Object.hasOwn(known, k))
            : [];
        for (const field of fields)
          differences.push(`${where}.${field}: the other side refuses unknown fields`);
        break;
      }
      case 'invalid_union':
        differences.push(`${where}: the schemas differ`);
        break;
      default:
      // Refinements, formats, bounds: the rules do not read them, so they are no version difference.
    }
  }
  return differences;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at = value;
  for (const segment of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<string | number, unknown>)[segment];
  }
  return at;
}

function schemaAt(schema: JsonSchema, path: readonly (string | number)[]): JsonSchema | undefined {
  let at: JsonSchema | undefined = schema;
  for (const segment of path) {
    if (at === undefined) return undefined;
    if (typeof segment === 'number') at = at.items as JsonSchema | undefined;
    else {
      const properties = at.properties as Record<string, JsonSchema> | undefined;
      at = properties !== undefined && Object.hasOwn(properties, segment) ? properties[segment] : undefined;
    }
  }
  return at;
}

function typesOf(schema: JsonSchema | undefined): string | undefined {
  const type = schema?.type;
  if (typeof type === 'string') return type;
  return Array.isArray(type) ? type.join(' or ') : undefined;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'bigint') return 'integer';
  return typeof value;
}
