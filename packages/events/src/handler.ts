/**
 * What handlers receive, the options that shape how they are called, and the checks of a subscription.
 */
import type { Backoff } from '@blueprint/core/plugin';
import { type AnyEvent, isEventDefinition, type PayloadOf } from './define-event.js';
import type { EventEnvelope } from './envelope.js';
import { EventsHandlerError } from './errors.js';

/**
 * What a handler learns about the event it handles, besides the payload: the envelope's `id` (the same
 * on every redelivery, so it can key your own deduplication), `name`, `version`, `occurredAt`, `key` and
 * `headers` (`x-correlation-id`, `traceparent`...). The handler runs in a request context made of these
 * headers, so the calls it makes and the events it publishes carry them without passing anything.
 */
export interface EventMeta extends Readonly<Omit<EventEnvelope, 'payload' | 'key'>> {
  /** The publisher's key, if any. */
  readonly key: string | undefined;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** The consumer group (the subscribing service's name). */
  readonly group: string;
}

/** A handler: resolves when done; throws (or rejects) to have the event retried. */
export type EventHandler<E extends AnyEvent = AnyEvent> = (payload: PayloadOf<E>, meta: EventMeta) => unknown;

/** How a handler is called. Every option falls back to the bus defaults (the topology's `events` section). */
export interface HandlerOptions {
  /** Most events handled at once by this handler in this process. Default: 16. */
  readonly concurrency?: number;
  /** Attempts before the event is dead-lettered, including the first. Default: 5. */
  readonly maxAttempts?: number;
  /** Wait between attempts. Default: `{ initial: 100, factor: 2, max: 30000, jitter: 0.2 }`. */
  readonly backoff?: Backoff;
  /**
   * Skip events this group already completed (same event id), counting them as duplicates, so the
   * handler's side effect runs once per group even when an event arrives twice. Default: false.
   */
  readonly inbox?: boolean;
}

/** Options of `bus.subscribe`. */
export interface SubscribeOptions extends HandlerOptions {
  /**
   * Consumer group: every group receives every event; replicas subscribing with the same group share
   * them. The plugin uses the service name. Letters, digits, `_` and `-`, starting with a letter.
   */
  readonly group: string;
}

/** Group names: letters, digits, `_`, `-`; no dots (NATS durable names refuse them). */
export const GROUP_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

/**
 * Checks what `subscribe` got: a group name, versions of one event made by `defineEvent` (each once) and
 * a function. Returns the event list and its name; throws `EVENTS_HANDLER_INVALID` naming the problem.
 */
export function checkSubscription(
  event: AnyEvent | readonly AnyEvent[],
  handler: unknown,
  group: unknown,
): { events: readonly AnyEvent[]; name: string } {
  const events: readonly AnyEvent[] = Array.isArray(event) ? event : [event as AnyEvent];
  if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
    throw new EventsHandlerError(
      `invalid group ${JSON.stringify(group)}: use letters, digits, "_" and "-", starting with a letter (the plugin uses the service name)`,
    );
  }
  if (events.length === 0 || !events.every(isEventDefinition)) {
    throw new EventsHandlerError(
      `subscribe for group "${group}" needs an event made by defineEvent (or a list of versions of one)`,
    );
  }
  const name = events[0]!.name;
  const versions = new Set<number>();
  for (const e of events) {
    if (e.name !== name || versions.has(e.version)) {
      throw new EventsHandlerError(
        `one handler takes versions of one event, each once; got "${e.name}" v${e.version} beside "${name}"`,
      );
    }
    versions.add(e.version);
  }
  if (typeof handler !== 'function') {
    throw new EventsHandlerError(`the handler of "${name}" for group "${group}" is not a function`);
  }
  return { events, name };
}
