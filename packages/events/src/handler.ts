/**
 * What handlers receive and the options that shape how they are called.
 */
import type { Backoff } from './backoff.js';
import type { AnyEvent, PayloadOf } from './define-event.js';
import type { EventHeaders } from './envelope.js';

/** What a handler learns about the event it handles, besides the payload. */
export interface EventMeta {
  /** Event id: the same on every redelivery, so it can key your own deduplication. */
  readonly id: string;
  /** Event name. */
  readonly name: string;
  /** Payload version. */
  readonly version: number;
  /** When the event was published. */
  readonly occurredAt: Date;
  /** The publisher's key, if any. */
  readonly key: string | undefined;
  /**
   * Headers from the publisher (`x-correlation-id`, `traceparent`...). Pass them on to calls you make:
   * `await this.payments.charge(input, { headers: meta.headers })`.
   */
  readonly headers: EventHeaders;
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
