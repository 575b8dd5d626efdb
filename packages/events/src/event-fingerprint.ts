/**
 * The fingerprint of an event's payload schema, which every envelope carries (see compatibility.ts for
 * the rules that use it). Its own module, so the envelope can name it without the rules.
 */
import { fingerprintOf, type JsonSchema, jsonSchemaOf } from '@blueprint/core';
import type { AnyEvent } from './define-event.js';

/** An event's payload schema as JSON Schema, and its fingerprint. */
export interface DescribedEvent {
  readonly schema: JsonSchema;
  readonly fingerprint: string;
}

const described = new WeakMap<AnyEvent, DescribedEvent>();

/** The described schema of `event` (computed once per definition). */
export function describeEvent(event: AnyEvent): DescribedEvent {
  let known = described.get(event);
  if (known === undefined) {
    // What travels is the payload as published: the schema's input.
    const schema = jsonSchemaOf(event.schema, 'input');
    known = { schema, fingerprint: fingerprintOf(schema) };
    described.set(event, known);
  }
  return known;
}

/**
 * The fingerprint of an event's payload schema (16 hex digits of the SHA-256 of its JSON Schema), as
 * every envelope published with it carries. Equal schemas give equal fingerprints, whatever the version.
 */
export function eventFingerprint(event: AnyEvent): string {
  return describeEvent(event).fingerprint;
}
