/**
 * The transport seam: what a broker driver implements so the bus can run on it.
 *
 * The bus owns the delivery rules (validation, attempts, backoff, dead-letter decisions, draining); a
 * transport owns storage and delivery: it stores published envelopes, hands each consumer group its
 * deliveries with an attempt number, and carries out what the bus decides for each delivery (ack, retry
 * after a delay, dead-letter). `TRANSPORTS.md` in the package explains how to write one, and
 * `@blueprint/events/testing` has the conformance suite (`describeEventTransportConformance`) every transport passes.
 */
import type { HealthCheckResult } from '@blueprint/core';
import type { EventEnvelope } from '../envelope.js';
import { EventsDeadLetterNotFoundError, type EventsError } from '../errors.js';

/** A consumer group bound to an event: the group receives every event of that name. */
export interface GroupBinding {
  /** Event name. */
  readonly event: string;
  /** Group name: the subscribing service's name. Replicas of one group share its events. */
  readonly group: string;
}

/** What a consumer group asks of a transport when it subscribes to one event. */
export interface SubscriptionSpec extends GroupBinding {
  /** Most deliveries handed out and not yet settled at once, for this subscription in this process. */
  readonly concurrency: number;
  /**
   * Keep an inbox: before handing out a delivery, look up its envelope id among the ids this group
   * completed and mark it `duplicate` when found; when the bus acks a delivery, record its id (before
   * or atomically with the ack). Ids are kept at least as long as the broker retains the event, and at
   * least `inboxRetention` ms.
   */
  readonly inbox: boolean;
  /** Minimum time the inbox keeps an id, in ms. */
  readonly inboxRetention: number;
  /** Called with errors the transport hits in the background (reconnects, failed acks). Never throws. */
  readonly onError: (error: unknown) => void;
}

/**
 * One event handed to one consumer of a group. The bus settles it exactly once, by calling one of
 * `ack`, `retry` or `deadLetter`. Settling never throws: a transport that fails to write the settlement
 * leaves the event to be redelivered (at-least-once) and reports the error through `onError`.
 */
export interface Delivery {
  /** The decoded envelope, or `undefined` when the stored entry could not be decoded (see `malformed`). */
  readonly envelope: EventEnvelope | undefined;
  /** Why the entry could not be decoded, when `envelope` is undefined. The bus dead-letters it at once. */
  readonly malformed: string | undefined;
  /**
   * Which delivery this is for the group, from 1: the broker's delivery count plus the attempts made
   * before a retry was scheduled. A crashed consumer's deliveries count too.
   */
  readonly attempt: number;
  /** True when the inbox says the group already completed this event id: the bus acks it unhandled. */
  readonly duplicate: boolean;
  /** Done: remove the event from the group's pending work (and record it in the inbox, if on). */
  ack(): void;
  /**
   * Failed: deliver it to this group again, to any replica, no sooner than `delayMs` from now, with
   * `attempt + 1`. Other groups are not affected. Never redeliver immediately.
   */
  retry(delayMs: number): void;
  /** Give up: store it in the dead-letter store with `reason`, then remove it from the pending work. */
  deadLetter(reason: DeadLetterReason): void;
}

/** What a transport returns for a subscription. */
export interface TransportSubscription {
  /**
   * Stops fetching: resolves once no more deliveries will be handed out. Deliveries already handed out
   * may still be settled afterwards.
   */
  stop(): Promise<void>;
  /**
   * Writes the settlements made so far (flushes batched acks) and releases the subscription's
   * resources. Deliveries still unsettled are abandoned: the broker redelivers them (to another
   * replica) and later settlements of them are ignored.
   */
  close(): Promise<void>;
}

/** Why an event was dead-lettered. */
export interface DeadLetterReason {
  /**
   * - `max-attempts`: the handler failed on every attempt;
   * - `invalid-payload`: the payload failed the handler's schema (not retried);
   * - `contract-mismatch`: the payload failed the handler's schema because it was published with an
   *   incompatible schema of the same event and version (its fingerprint differs): `code` is
   *   `CONTRACT_MISMATCH`, `details` name both versions and the differences (not retried);
   * - `unknown-version`: no handler of the group knows the event's version (not retried);
   * - `malformed`: the stored entry could not be decoded (not retried);
   * - `redelivery-limit`: delivered more than `maxAttempts` times without settling (a consumer crashed
   *   while handling it each time), dead-lettered without running the handler again;
   * - `signature`: with auth on, the envelope is unsigned or its signature is wrong: it was not published
   *   by a process holding the topology's secret (checked first, not retried). Its dead letter is keyed
   *   by the broker's id of the entry, never by the event id the envelope claims.
   */
  readonly kind:
    | 'max-attempts'
    | 'invalid-payload'
    | 'contract-mismatch'
    | 'unknown-version'
    | 'malformed'
    | 'redelivery-limit'
    | 'signature';
  /** What went wrong, for operators. */
  readonly message: string;
  /** The code of the last error, when it had one (`VALIDATION_FAILED`, your own codes...). */
  readonly code?: string | undefined;
  /** JSON-safe details of the last error (validation issues...). */
  readonly details?: unknown;
}

/** An event a group gave up on. */
export interface DeadLetter {
  /** Id of the dead letter: `group:event:eventId`. Use it to replay or discard. */
  readonly id: string;
  /** The group that gave up. */
  readonly group: string;
  /** Event name. */
  readonly event: string;
  /**
   * The event id, or the broker's entry id for an entry that could not be decoded or whose signature
   * failed (an unverified envelope's id is not trusted, so it cannot replace another event's dead letter).
   */
  readonly eventId: string;
  /** The envelope, or `undefined` when the entry could not be decoded (`raw` then holds the text). */
  readonly envelope: EventEnvelope | undefined;
  /** The stored text of an entry that could not be decoded. */
  readonly raw?: string | undefined;
  /** Why. */
  readonly reason: DeadLetterReason;
  /** Attempts made. */
  readonly attempts: number;
  /** When it was dead-lettered. */
  readonly deadAt: Date;
}

/** Filter of {@link DeadLetterStore.list}. */
export interface DeadLetterFilter {
  /** Only this group's dead letters. */
  readonly group?: string;
  /** Only dead letters of this event name. */
  readonly event?: string;
  /** At most this many. Default: 1,000. */
  readonly limit?: number;
}

/** The dead letters of a transport. Every transport keeps them durably as far as its broker goes. */
export interface DeadLetterStore {
  /** Dead letters matching the filter, oldest first. */
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /** One dead letter, or `undefined`. */
  get(id: string): Promise<DeadLetter | undefined>;
  /**
   * Delivers the event again to its group only (attempts start over) and removes the dead letter.
   * Rejects with `EVENTS_DEAD_LETTER_NOT_FOUND` for an unknown id.
   */
  replay(id: string): Promise<void>;
  /** Removes the dead letter for good. Rejects with `EVENTS_DEAD_LETTER_NOT_FOUND` for an unknown id. */
  discard(id: string): Promise<void>;
}

/**
 * A broker driver.
 *
 * Rules every transport keeps (the conformance suite checks them):
 * - `publish` resolves only once every envelope is stored; it rejects with a coded `EventsError` within a
 *   bounded time when it cannot store (`EVENTS_BROKER_UNAVAILABLE`, `EVENTS_PUBLISH_TIMEOUT`,
 *   `EVENTS_QUEUE_FULL`); it may reject for an event that was stored after all (say so in `details.maybeStored`).
 * - Every group bound to an event receives every event published after the binding was declared (by
 *   `connect` or `subscribe`), at least once, however many replicas subscribe; replicas share the group's events.
 * - Deliveries are acked only by the bus (never auto-acked); unsettled deliveries of a consumer that dies
 *   are redelivered to another replica after a bounded time, with their attempt counted.
 * - A retry is delivered to its group only, after its delay; a dead letter is stored before the delivery
 *   is removed; a replayed dead letter reaches its group only.
 */
export interface EventTransport {
  /** The transport type (its descriptor's `type`), for logs, spans and stats: `"memory"`, `"redis-streams"`, `"nats"`. */
  readonly type: string;
  /** The OpenTelemetry `messaging.system` of the bus's spans: `"redis"`, `"nats"`, `"kafka"`. Default: `type`. */
  readonly messagingSystem?: string;
  /**
   * False for a transport whose events never leave the process (`memory`): the plugin refuses it in a
   * topology of several processes. Default: true.
   */
  readonly crossesProcesses?: boolean;
  /**
   * Opens the producer side and makes sure every binding's group exists, so events published from now
   * on reach it even before its consumers subscribe. Called once, before the first publish. Rejects with
   * `EVENTS_BROKER_UNAVAILABLE` when the broker cannot be reached within the transport's connect timeout.
   */
  connect(bindings: readonly GroupBinding[]): Promise<void>;
  /**
   * Stores one event. Returns nothing when it was stored synchronously (memory), else a promise that
   * resolves once it is stored. See the rules above.
   */
  publish(envelope: EventEnvelope): Promise<void> | undefined;
  /** Stores several events, all of the same name, as one batch (all or none where the broker allows). */
  publishMany(envelopes: readonly EventEnvelope[]): Promise<void>;
  /**
   * Starts delivering one event to one group (creating the group when it does not exist yet). `deliver`
   * is called for each delivery and must not throw; at most `spec.concurrency` deliveries are unsettled
   * at a time.
   */
  subscribe(spec: SubscriptionSpec, deliver: (delivery: Delivery) => void): Promise<TransportSubscription>;
  /** The dead-letter store. */
  readonly deadLetters: DeadLetterStore;
  /** Readiness of the connection(s), with short JSON-safe details (state, queue depths...). */
  health(): Promise<HealthCheckResult>;
  /** Transport counters (dropped entries, claims, reconnects...), for `bus.stats()`. */
  stats(): Record<string, number>;
  /**
   * The consumer lag of a group: its events not yet settled (published and not yet delivered, delivered
   * and not acked, waiting for a retry), or `undefined` when the transport cannot tell now. Read on
   * every scrape of `blueprint_events_pending`; answer within the transport's command timeout. Optional.
   */
  pending?(binding: GroupBinding): Promise<number | undefined>;
  /**
   * Closes every connection and timer. Subscriptions still open are closed (their unsettled deliveries
   * abandoned). Safe to call twice.
   */
  close(): Promise<void>;
}

/** Builds the id of a dead letter from its parts. */
export function deadLetterId(group: string, event: string, eventId: string): string {
  return `${group}:${event}:${eventId}`;
}

/** Splits a dead-letter id into its parts, or returns `undefined` when it is not one. */
export function parseDeadLetterId(id: string): { group: string; event: string; eventId: string } | undefined {
  const first = id.indexOf(':');
  const second = first < 0 ? -1 : id.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === id.length - 1) return undefined;
  return { group: id.slice(0, first), event: id.slice(first + 1, second), eventId: id.slice(second + 1) };
}

/** The error `replay` and `discard` reject with for an unknown dead-letter id. */
export function deadLetterNotFound(id: string): EventsError {
  return new EventsDeadLetterNotFoundError(`no dead letter "${id}"; list them with bus.deadLetters.list()`, {
    details: { id },
  }) as EventsError;
}
