/**
 * What a publish takes and checks before anything is stored: its options (id, key, headers) and the
 * envelope built from a validated payload.
 */
import { parseOrThrow } from '@blueprint/core/plugin';
import type { AnyEvent } from './define-event.js';
import { type EventHeaders, LocalEnvelope, NO_HEADERS } from './envelope.js';
import { EventsPublishInvalidError } from './errors.js';
import { createEventId, EVENT_ID } from './event-id.js';

/** Options of `bus.publish`. */
export interface PublishOptions {
  /**
   * The event id. Default: a new UUID v7. Give your own to make a retried publish idempotent: when a
   * publish fails with `EVENTS_PUBLISH_TIMEOUT`, publish again with the same id and groups with an inbox
   * handle it once.
   */
  readonly id?: string | undefined;
  /** A key (an entity id, say), carried to handlers as `meta.key` and kept in dead letters. */
  readonly key?: string | undefined;
  /** Headers to pass through to handlers: `x-correlation-id`, `traceparent`, your own. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Options of `bus.publishMany`. */
export interface PublishManyOptions {
  /** Ids of the events, in order (see {@link PublishOptions.id}). Default: new UUID v7s. */
  readonly ids?: readonly string[] | undefined;
  /** A key for every event. */
  readonly key?: string | undefined;
  /** Headers for every event. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

function checkHeaders(headers: Readonly<Record<string, string>>): EventHeaders {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new EventsPublishInvalidError(
        `header "${name}" must be a string, got ${typeof value}; convert it with String(...)`,
      );
    }
    copy[name] = value;
  }
  return Object.freeze(copy);
}

function checkId(id: string): string {
  if (typeof id !== 'string' || !EVENT_ID.test(id)) {
    throw new EventsPublishInvalidError(
      `invalid event id ${JSON.stringify(id)}: use 1 to 128 letters, digits, ".", "_", "~" or "-"`,
    );
  }
  return id;
}

/**
 * Validates `payload` with the event's schema (a `ValidationError` when it fails) and the options
 * (`EVENTS_PUBLISH_INVALID`), then builds the envelope to store. `now` is the publish time in epoch ms
 * (one clock reading for the id and `occurredAt`); `index` the place in a `publishMany` batch, for
 * messages. Positional arguments: it runs once per published event.
 */
export function buildEnvelope(
  event: AnyEvent,
  payload: unknown,
  id: string | undefined,
  key: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
  now: number,
  index?: number,
): LocalEnvelope {
  const subject = index === undefined ? event.name : `${event.name} (item ${index})`;
  const parsed = parseOrThrow(event.schema, payload, subject, 'payload');
  if (key !== undefined && (typeof key !== 'string' || key.length > 1024)) {
    throw new EventsPublishInvalidError(
      `invalid key ${JSON.stringify(key)} for event "${event.name}": use a string of at most 1024 characters`,
    );
  }
  return new LocalEnvelope(
    id === undefined ? createEventId(now) : checkId(id),
    event,
    new Date(now),
    key,
    headers === undefined ? NO_HEADERS : checkHeaders(headers),
    payload,
    parsed,
  );
}
