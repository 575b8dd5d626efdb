/**
 * The event bus: typed publishing, subscriptions with the delivery rules, dead letters, draining.
 * It runs on any {@link EventTransport}; the plugin builds one per process from the topology.
 */
import { type HealthCheckResult, parseOrThrow, type SpanHandle, type Telemetry } from '@blueprint/core';
import { type Backoff, toBackoffFunction } from './backoff.js';
import { type AnyEvent, isEventDefinition, type PayloadInput } from './define-event.js';
import { type EventHeaders, LocalEnvelope, NO_HEADERS } from './envelope.js';
import { EventsError } from './errors.js';
import { createEventId, EVENT_ID } from './event-id.js';
import { GroupConsumer, type SubscriptionStats } from './group-consumer.js';
import { type EventHandler, type EventMeta, GROUP_NAME, type SubscribeOptions } from './handler.js';
import { type EventsInstruments, eventsInstrumentsOf, type PublishInstruments } from './instruments.js';
import { durationOption, wholeNumberOption } from './option-values.js';
import type { DeadLetterStore, EventTransport, GroupBinding } from './transport.js';

/** Options of {@link EventBus.publish}. */
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

/** Options of {@link EventBus.publishMany}. */
export interface PublishManyOptions {
  /** Ids of the events, in order (see {@link PublishOptions.id}). Default: new UUID v7s. */
  readonly ids?: readonly string[] | undefined;
  /** A key for every event. */
  readonly key?: string | undefined;
  /** Headers for every event. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** A running subscription. */
export interface Subscription {
  /** Consumer group. */
  readonly group: string;
  /** Event name. */
  readonly event: string;
  /** Stops taking events, lets running handlers finish (up to the drain timeout) and acks them. */
  stop(): Promise<void>;
}

/** Counters of a bus. */
export interface EventBusStats {
  /** Events stored by `publish` / `publishMany`. */
  readonly published: number;
  /** Events whose publish was rejected (validation errors not counted). */
  readonly publishFailed: number;
  /** One entry per subscription. */
  readonly subscriptions: readonly SubscriptionStats[];
  /** Counters of the transport. */
  readonly transport: Readonly<Record<string, number>>;
}

/** What went wrong where, for {@link EventBusOptions.onError}. */
export interface BusErrorContext {
  /** `handler`: a handler threw (it will be retried or dead-lettered); `transport`: a background error. */
  readonly kind: 'handler' | 'transport';
  /** The group, when known. */
  readonly group?: string;
  /** The event name, when known. */
  readonly event?: string;
  /** The event id and attempt, for handler errors. */
  readonly meta?: EventMeta;
}

/** Defaults applied to subscriptions that do not set an option. */
export interface HandlerDefaults {
  /** Default: 16. */
  readonly concurrency?: number;
  /** Default: 5. */
  readonly maxAttempts?: number;
  /** Default: `{ initial: 100, factor: 2, max: 30000, jitter: 0.2 }`. */
  readonly backoff?: Backoff;
  /** Default: false. */
  readonly inbox?: boolean;
}

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** The transport. The bus closes it on `stop()`. */
  readonly transport: EventTransport;
  /** Defaults for handlers. */
  readonly defaults?: HandlerDefaults;
  /** How long the inbox keeps a processed id at least (it also keeps it while the broker holds the event). Default: `"10m"`. */
  readonly inboxRetention?: number | string;
  /** How long `stop()` / `drain()` waits for running handlers before abandoning them (they are redelivered). Default: `"10s"`. */
  readonly drainTimeout?: number | string;
  /**
   * Groups to declare on connect, so events published before their consumers subscribe still reach
   * them. The plugin declares the group of every service of the app that has `@OnEvent` handlers.
   */
  readonly groups?: readonly GroupBinding[];
  /** Called for handler failures and background transport errors. Default: nothing (see `stats()`). */
  readonly onError?: (error: unknown, context: BusErrorContext) => void;
  /**
   * Logs, metrics and traces (the plugin passes the process's; `createTelemetry()` from
   * `@blueprint/core` makes one for a bus without an app): the `blueprint_events_*` metrics, a producer
   * span per publish whose `traceparent` travels in the envelope's headers, a consumer span around each
   * handler run, and one log line per handled event. Default: none (nothing recorded).
   */
  readonly telemetry?: Telemetry;
}

/** The bus. */
export interface EventBus {
  /** The transport this bus runs on. */
  readonly transport: EventTransport;
  /** Connects the producer side and declares the groups. `publish` and `subscribe` call it when needed. */
  connect(): Promise<void>;
  /**
   * Validates `payload` with the event's schema (a `ValidationError` rejects and nothing is stored),
   * stores the event and resolves with its id. Rejects with a coded `EventsError` when the transport
   * cannot store it within its bounded time; it never resolves for an event that was not stored.
   *
   * @example
   * const id = await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 }, { headers: { 'x-correlation-id': cid } });
   */
  publish<E extends AnyEvent>(event: E, payload: PayloadInput<E>, options?: PublishOptions): Promise<string>;
  /** Validates every payload first (nothing is stored if one fails), then stores them as one batch. */
  publishMany<E extends AnyEvent>(
    event: E,
    payloads: readonly PayloadInput<E>[],
    options?: PublishManyOptions,
  ): Promise<string[]>;
  /**
   * Subscribes a handler for a group. Pass several definitions of one event name (versions 1 and 2) to
   * handle every version they cover; other versions are dead-lettered.
   *
   * @example
   * await bus.subscribe(OrderPlaced, async (order, meta) => { ... }, { group: 'billing', maxAttempts: 3 });
   */
  subscribe<E extends AnyEvent>(
    event: E | readonly E[],
    handler: EventHandler<E>,
    options: SubscribeOptions,
  ): Promise<Subscription>;
  /** Dead letters: list them, replay one to its group, or discard it. */
  readonly deadLetters: DeadLetterStore;
  /** Counters. */
  stats(): EventBusStats;
  /** Readiness of the transport. */
  health(): Promise<HealthCheckResult>;
  /** Stops every subscription: no new events, running handlers finish (up to the drain timeout) and are acked. Publishing still works. */
  drain(): Promise<void>;
  /** {@link drain}, then closes the transport. Publishing afterwards fails with `EVENTS_BUS_CLOSED`. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_CONCURRENCY = 16;
const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_INBOX_RETENTION = 10 * 60_000;
const DEFAULT_DRAIN_TIMEOUT = 10_000;

function checkHeaders(headers: Readonly<Record<string, string>> | undefined): EventHeaders {
  if (headers === undefined) return NO_HEADERS;
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new EventsError(
        'EVENTS_PUBLISH_INVALID',
        `header "${name}" must be a string, got ${typeof value}; convert it with String(...)`,
      );
    }
    copy[name] = value;
  }
  return Object.freeze(copy);
}

function checkId(id: string): string {
  if (typeof id !== 'string' || !EVENT_ID.test(id)) {
    throw new EventsError(
      'EVENTS_PUBLISH_INVALID',
      `invalid event id ${JSON.stringify(id)}: use 1 to 128 letters, digits, ".", "_", "~" or "-"`,
    );
  }
  return id;
}

type State = 'idle' | 'connecting' | 'open' | 'closed';

class Bus implements EventBus {
  readonly transport: EventTransport;
  readonly deadLetters: DeadLetterStore;
  private state: State = 'idle';
  private connecting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private published = 0;
  private publishFailed = 0;
  private readonly consumers: GroupConsumer[] = [];
  private readonly defaults: HandlerDefaults;
  private readonly inboxRetention: number;
  private readonly drainTimeout: number;
  private readonly groups: readonly GroupBinding[];
  private readonly onError: (error: unknown, context: BusErrorContext) => void;
  private readonly instruments: EventsInstruments | undefined;
  private readonly countFailure = (error: unknown): never => {
    this.publishFailed++;
    throw error;
  };

  constructor(options: EventBusOptions) {
    this.transport = options.transport;
    this.defaults = options.defaults ?? {};
    this.inboxRetention = durationOption(options.inboxRetention, DEFAULT_INBOX_RETENTION, 'inboxRetention');
    this.drainTimeout = durationOption(options.drainTimeout, DEFAULT_DRAIN_TIMEOUT, 'drainTimeout');
    this.groups = options.groups ?? [];
    const onError = options.onError;
    this.onError = (error, context) => {
      try {
        onError?.(error, context);
      } catch {
        // A failing error reporter must not break delivery.
      }
    };
    if (options.telemetry !== undefined) {
      this.instruments = eventsInstrumentsOf(options.telemetry);
      this.instruments.watchPending(this.transport, () => this.consumers);
    }
    const store = this.transport.deadLetters;
    const connected =
      <A, R>(call: (arg: A) => Promise<R>) =>
      async (arg: A) => {
        await this.connect();
        return call(arg);
      };
    this.deadLetters = {
      list: connected((filter) => store.list(filter)),
      get: connected((id: string) => store.get(id)),
      replay: connected((id: string) => store.replay(id)),
      discard: connected((id: string) => store.discard(id)),
    };
  }

  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.closedError());
    if (this.connecting === undefined) {
      this.state = 'connecting';
      this.connecting = this.transport.connect(this.groups).then(
        () => {
          if (this.state === 'connecting') this.state = 'open';
        },
        (error: unknown) => {
          if (this.state === 'connecting') this.state = 'idle';
          this.connecting = undefined;
          throw error;
        },
      );
    }
    return this.connecting;
  }

  publish<E extends AnyEvent>(event: E, payload: PayloadInput<E>, options?: PublishOptions): Promise<string> {
    if (this.state !== 'open') {
      return this.connect().then(() => this.publish(event, payload, options));
    }
    if (this.instruments !== undefined) {
      return this.publishObserved(
        event,
        payload,
        options,
        this.instruments.publish(event.name, this.transport),
      );
    }
    let envelope: LocalEnvelope;
    try {
      envelope = this.envelope(event, payload, options?.id, options?.key, options?.headers, Date.now());
    } catch (error) {
      return Promise.reject(error);
    }
    const stored = this.transport.publish(envelope);
    if (stored === undefined) {
      this.published++;
      return Promise.resolve(envelope.id);
    }
    return stored.then(() => {
      this.published++;
      return envelope.id;
    }, this.countFailure);
  }

  /** {@link publish} with a producer span whose context travels in the headers, and counted. */
  private publishObserved(
    event: AnyEvent,
    payload: unknown,
    options: PublishOptions | undefined,
    instruments: PublishInstruments,
  ): Promise<string> {
    let headers = options?.headers;
    let span: SpanHandle | undefined;
    if (this.instruments!.tracing) {
      span = instruments.startSpan(headers);
      if (span?.recording === true) headers = span.inject({ ...headers });
    }
    let envelope: LocalEnvelope;
    try {
      envelope = this.envelope(event, payload, options?.id, options?.key, headers, Date.now());
    } catch (error) {
      instruments.failed(error);
      span?.end(error);
      return Promise.reject(error);
    }
    if (span?.recording === true) span.setAttribute('messaging.message.id', envelope.id);
    const stored = this.transport.publish(envelope);
    if (stored === undefined) {
      this.published++;
      instruments.results.ok++;
      span?.end();
      return Promise.resolve(envelope.id);
    }
    return stored.then(
      () => {
        this.published++;
        instruments.results.ok++;
        span?.end();
        return envelope.id;
      },
      (error: unknown) => {
        instruments.failed(error);
        span?.end(error);
        return this.countFailure(error);
      },
    );
  }

  async publishMany<E extends AnyEvent>(
    event: E,
    payloads: readonly PayloadInput<E>[],
    options: PublishManyOptions = {},
  ): Promise<string[]> {
    if (this.state !== 'open') await this.connect();
    if (options.ids !== undefined && options.ids.length !== payloads.length) {
      throw new EventsError(
        'EVENTS_PUBLISH_INVALID',
        `publishMany got ${payloads.length} payloads but ${options.ids.length} ids; give one id per payload`,
      );
    }
    if (payloads.length === 0) return [];
    const instruments = this.instruments?.publish(event.name, this.transport);
    let headers = options.headers;
    let span: SpanHandle | undefined;
    if (instruments !== undefined && this.instruments!.tracing) {
      span = instruments.startSpan(headers);
      if (span?.recording === true) {
        span.setAttribute('messaging.batch.message_count', payloads.length);
        headers = span.inject({ ...headers });
      }
    }
    try {
      const now = Date.now();
      const envelopes = payloads.map((payload, index) =>
        this.envelope(event, payload, options.ids?.[index], options.key, headers, now, index),
      );
      await this.transport.publishMany(envelopes).catch(this.countFailure);
      this.published += envelopes.length;
      if (instruments !== undefined) instruments.results.ok += envelopes.length;
      span?.end();
      return envelopes.map((e) => e.id);
    } catch (error) {
      for (let i = 0; i < payloads.length; i++) instruments?.failed(error);
      span?.end(error);
      throw error;
    }
  }

  async subscribe<E extends AnyEvent>(
    event: E | readonly E[],
    handler: EventHandler<E>,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.state === 'closed' || this.stopping !== undefined) throw this.closedError();
    const events: readonly AnyEvent[] = Array.isArray(event) ? event : [event as AnyEvent];
    const group = options?.group;
    if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
      throw new EventsError(
        'EVENTS_HANDLER_INVALID',
        `invalid group ${JSON.stringify(group)}: use letters, digits, "_" and "-", starting with a letter (the plugin uses the service name)`,
      );
    }
    if (events.length === 0 || !events.every(isEventDefinition)) {
      throw new EventsError(
        'EVENTS_HANDLER_INVALID',
        `subscribe for group "${group}" needs an event made by defineEvent (or a list of versions of one)`,
      );
    }
    const name = events[0]!.name;
    const versions = new Set<number>();
    for (const e of events) {
      if (e.name !== name || versions.has(e.version)) {
        throw new EventsError(
          'EVENTS_HANDLER_INVALID',
          `one handler takes versions of one event, each once; got "${e.name}" v${e.version} beside "${name}"`,
        );
      }
      versions.add(e.version);
    }
    if (typeof handler !== 'function') {
      throw new EventsError(
        'EVENTS_HANDLER_INVALID',
        `the handler of "${name}" for group "${group}" is not a function`,
      );
    }
    if (this.consumers.some((c) => c.group === group && c.event === name)) {
      throw new EventsError(
        'EVENTS_HANDLER_INVALID',
        `group "${group}" already has a handler for "${name}" on this bus; a group handles an event once: merge the handlers`,
      );
    }
    const d = this.defaults;
    const consumer = new GroupConsumer({
      group,
      events,
      handler: handler as EventHandler,
      maxAttempts: wholeNumberOption(
        options.maxAttempts,
        d.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        'maxAttempts',
        1,
        'EVENTS_HANDLER_INVALID',
      ),
      backoff: toBackoffFunction(options.backoff ?? d.backoff),
      onHandlerError: (error, meta) => this.onError(error, { kind: 'handler', group, event: name, meta }),
      instruments: this.instruments?.subscription(name, group, this.transport),
    });
    const concurrency = wholeNumberOption(
      options.concurrency,
      d.concurrency ?? DEFAULT_CONCURRENCY,
      'concurrency',
      1,
      'EVENTS_HANDLER_INVALID',
    );
    await this.connect();
    this.consumers.push(consumer);
    try {
      consumer.subscription = await this.transport.subscribe(
        {
          event: name,
          group,
          concurrency,
          inbox: options.inbox ?? d.inbox ?? false,
          inboxRetention: this.inboxRetention,
          onError: (error) => this.onError(error, { kind: 'transport', group, event: name }),
        },
        consumer.deliver,
      );
    } catch (error) {
      this.consumers.splice(this.consumers.indexOf(consumer), 1);
      throw error;
    }
    let stopped: Promise<void> | undefined;
    return {
      group,
      event: name,
      stop: () => {
        stopped ??= this.stopConsumer(consumer);
        return stopped;
      },
    };
  }

  stats(): EventBusStats {
    return {
      published: this.published,
      publishFailed: this.publishFailed,
      subscriptions: this.consumers.map((c) => c.stats()),
      transport: this.transport.stats(),
    };
  }

  async health(): Promise<HealthCheckResult> {
    if (this.state === 'closed') return { ok: false, details: { state: 'closed' } };
    if (this.state !== 'open') return { ok: false, details: { state: 'not connected' } };
    return this.transport.health();
  }

  async drain(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.stopConsumer(c)));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.drain();
      } finally {
        this.state = 'closed';
        await this.transport.close();
      }
    })();
    return this.stopping;
  }

  private async stopConsumer(consumer: GroupConsumer): Promise<void> {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    const subscription = consumer.subscription;
    try {
      await subscription?.stop();
      await consumer.whenIdle(this.drainTimeout);
    } finally {
      this.consumers.splice(this.consumers.indexOf(consumer), 1);
      await subscription?.close();
    }
  }

  private envelope(
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
      throw new EventsError(
        'EVENTS_PUBLISH_INVALID',
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

  private closedError(): EventsError {
    return new EventsError(
      'EVENTS_BUS_CLOSED',
      'the event bus was stopped; create a new bus (or app) to publish again',
    );
  }
}

/**
 * Creates a bus on a transport. Nothing connects until `connect()`, `publish()` or `subscribe()`.
 *
 * @example
 * const bus = createEventBus({ transport: createMemoryTransport() });
 * await bus.subscribe(OrderPlaced, (order) => { ... }, { group: 'billing' });
 * await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 });
 * await bus.stop();
 */
export function createEventBus(options: EventBusOptions): EventBus {
  if (typeof options?.transport?.publish !== 'function') {
    throw new EventsError(
      'EVENTS_CONFIG_INVALID',
      'createEventBus needs a transport, e.g. createMemoryTransport()',
    );
  }
  return new Bus(options);
}
