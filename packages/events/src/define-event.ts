/**
 * Event definitions: a name, a version and a zod schema for the payload.
 */
import type { z } from 'zod';
import { EventsDefinitionError } from './errors.js';

/** An event made by {@link defineEvent}. */
export interface EventDefinition<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** Marks event definitions. */
  readonly kind: 'blueprint:event';
  /** Event name, e.g. `"order.placed"`. Transports keep one stream (subject) per name. */
  readonly name: N;
  /** Payload version. A consumer dead-letters an event whose version none of its handlers knows. */
  readonly version: number;
  /** Schema of the payload, checked when publishing and again when consuming. */
  readonly schema: S;
  /** A sentence for documentation. */
  readonly description: string | undefined;
}

/** Any event definition. */
export type AnyEvent = EventDefinition<string, z.ZodType>;

/** What a publisher passes for an event: the schema's input type. */
export type PayloadInput<E extends AnyEvent> = z.input<E['schema']>;

/** What a handler receives for an event: the schema's output type. */
export type PayloadOf<E extends AnyEvent> = z.output<E['schema']>;

/** Options of {@link defineEvent}. */
export interface DefineEventOptions {
  /** Payload version, a whole number from 1. Default: 1. */
  readonly version?: number;
  /** A sentence for documentation. */
  readonly description?: string;
}

/** Event names: letters, digits, `.`, `_` and `-`, starting with a letter (`order.placed`). */
export const EVENT_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

/**
 * Declares an event.
 *
 * @example
 * export const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string(), total: z.number() }));
 * export const OrderPlacedV2 = defineEvent('order.placed', z.object({ orderId: z.string(), cents: z.bigint() }), { version: 2 });
 */
export function defineEvent<const N extends string, S extends z.ZodType>(
  name: N,
  schema: S,
  options: DefineEventOptions = {},
): EventDefinition<N, S> {
  if (typeof name !== 'string' || !EVENT_NAME.test(name) || name.endsWith('.')) {
    throw new EventsDefinitionError(
      `invalid event name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-", starting with a letter (e.g. "order.placed")`,
    );
  }
  const version = options.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new EventsDefinitionError(
      `invalid version ${JSON.stringify(version)} for event "${name}": use a whole number from 1`,
    );
  }
  if (typeof (schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    throw new EventsDefinitionError(
      `event "${name}" needs a zod schema for its payload, e.g. defineEvent("${name}", z.object({ ... }))`,
    );
  }
  return Object.freeze({
    kind: 'blueprint:event',
    name,
    version,
    schema,
    description: options.description,
  });
}

/** True when `value` is an event made by {@link defineEvent}. */
export function isEventDefinition(value: unknown): value is AnyEvent {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'blueprint:event'
  );
}
