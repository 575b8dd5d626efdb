/**
 * The event bus: typed publishing, subscriptions with the delivery rules, dead letters, draining.
 * It runs on any {@link EventTransport}; the plugin builds one per process from the topology.
 */
import { type Duration, type HealthCheckResult, requestContext, type Telemetry } from '@blueprint/core';
import type { MessageSigner, SpanHandle } from '@blueprint/core/plugin';
import { resolveBusOptions, resolveHandlerOptions } from './bus-options.js';
import type { AnyEvent, PayloadInput } from './define-event.js';
import { type EventEnvelope, type LocalEnvelope, signEnvelope } from './envelope.js';
import {
  EventsBusClosedError,
  EventsConfigError,
  type EventsError,
  EventsHandlerError,
  EventsPublishInvalidError,
} from './errors.js';
import { GroupConsumer, type SubscriptionStats } from './group-consumer.js';
import {
  checkSubscription,
  type EventHandler,
  type EventMeta,
  type HandlerOptions,
  type SubscribeOptions,
} from './handler.js';
import { type EventsInstruments, eventsInstrumentsOf, type PublishInstruments } from './instruments.js';
import {
  activeOutboxScope,
  type OutboxScope,
  registerStoredDelivery,
  stopAttached,
} from './internal/outbox-scope.js';
import { buildEnvelope, type PublishManyOptions, type PublishOptions } from './publishing.js';
import type { DeadLetterStore, EventTransport, GroupBinding } from './transport/event-transport.js';

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

/** Defaults applied to subscriptions that do not set an option (the topology's `events` keys). */
export type HandlerDefaults = HandlerOptions;

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** The transport. The bus closes it on `stop()`. */
  readonly transport: EventTransport;
  /** Defaults for handlers. */
  readonly defaults?: HandlerDefaults;
  /** How long the inbox keeps a processed id at least (it also keeps it while the broker holds the event). Default: `"10m"`. */
  readonly inboxRetention?: Duration;
  /** How long `stop()` / `drain()` waits for running handlers before abandoning them (they are redelivered). Default: `"10s"`. */
  readonly drainTimeout?: Duration;
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
  /**
   * The events this process declares it publishes (the `publishes` of its services' contracts), and what
   * to do the first time it publishes another one (the plugin logs a warning). Default: no check.
   */
  readonly publishes?: PublishDeclarations;
  /**
   * Signs every published envelope and makes every group refuse (dead-letter, reason `signature`) an
   * entry without a valid signature. The plugin passes `messageSigner(topology, 'events')` when the
   * topology authenticates calls. Default: nothing signed or checked.
   */
  readonly signer?: MessageSigner;
}

/** See {@link EventBusOptions.publishes}. */
export interface PublishDeclarations {
  /** Names of the declared events. */
  readonly declared: readonly string[];
  /** Called once per event name published without a declaration. */
  readonly onUndeclared: (event: string) => void;
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
  private connectFailed = false;
  /** Declared events, and names already reported as undeclared; undefined when nothing is checked. */
  private readonly declared: Set<string> | undefined;
  private readonly onUndeclared: ((event: string) => void) | undefined;
  private readonly signer: MessageSigner | undefined;
  private readonly countFailure = (error: unknown): never => {
    this.publishFailed++;
    throw error;
  };

  constructor(options: EventBusOptions) {
    this.transport = options.transport;
    this.defaults = options.defaults ?? {};
    ({ inboxRetention: this.inboxRetention, drainTimeout: this.drainTimeout } = resolveBusOptions(options));
    this.groups = options.groups ?? [];
    this.signer = options.signer;
    if (options.publishes !== undefined) {
      this.declared = new Set(options.publishes.declared);
      this.onUndeclared = options.publishes.onUndeclared;
    }
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
    registerStoredDelivery(this, (envelopes) => this.deliverStored(envelopes));
  }

  /** Stores envelopes written earlier (an outbox's rows, of one event), counted as publishes. */
  private async deliverStored(envelopes: readonly EventEnvelope[]): Promise<void> {
    await this.connect();
    const instruments = this.instruments?.publish(envelopes[0]!.name, this.transport);
    try {
      await (envelopes.length === 1
        ? this.transport.publish(envelopes[0]!)
        : this.transport.publishMany(envelopes));
    } catch (error) {
      for (let i = 0; i < envelopes.length; i++) instruments?.failed(error);
      this.publishFailed += envelopes.length;
      throw error;
    }
    this.published += envelopes.length;
    if (instruments !== undefined) instruments.results.ok += envelopes.length;
  }

  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.closedError());
    if (this.connecting === undefined) {
      this.state = 'connecting';
      this.connecting = this.transport.connect(this.groups).then(
        () => {
          this.connectFailed = false;
          if (this.state === 'connecting') this.state = 'open';
        },
        (error: unknown) => {
          this.connectFailed = true;
          if (this.state === 'connecting') this.state = 'idle';
          this.connecting = undefined;
          throw error;
        },
      );
    }
    return this.connecting;
  }

  publish<E extends AnyEvent>(event: E, payload: PayloadInput<E>, options?: PublishOptions): Promise<string> {
    const scope = activeOutboxScope();
    if (scope !== undefined && scope.bus === this) {
      return this.toOutbox(scope, event, options?.headers, true, (headers) => [
        buildEnvelope(event, payload, options?.id, options?.key, headers, Date.now()),
      ]) as Promise<string>;
    }
    if (this.state !== 'open') {
      return this.connect().then(() => this.publish(event, payload, options));
    }
    if (this.declared !== undefined) this.checkDeclared(event.name);
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
      envelope = buildEnvelope(
        event,
        payload,
        options?.id,
        options?.key,
        outgoingHeaders(options?.headers),
        Date.now(),
      );
      if (this.signer !== undefined) signEnvelope(envelope, this.signer);
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

  /**
   * Writes the envelopes `build` makes to the outbox of `scope` (in its transaction) instead of the
   * transport, with the same checks, headers and signature; the outbox's relay delivers them later.
   */
  private toOutbox(
    scope: OutboxScope,
    event: AnyEvent,
    explicit: Readonly<Record<string, string>> | undefined,
    single: boolean,
    build: (headers: Readonly<Record<string, string>> | undefined) => LocalEnvelope[],
  ): Promise<string | string[]> {
    if (this.state === 'closed') return scope.fail(this.closedError());
    if (this.declared !== undefined) this.checkDeclared(event.name);
    let headers = outgoingHeaders(explicit);
    const span =
      this.instruments?.tracing === true
        ? this.instruments.publish(event.name, this.transport).startSpan(headers)
        : undefined;
    if (span?.recording === true) headers = span.inject({ ...headers });
    let written: void | Promise<void>;
    let envelopes: LocalEnvelope[];
    try {
      envelopes = build(headers);
      if (this.signer !== undefined) for (const envelope of envelopes) signEnvelope(envelope, this.signer);
      written = scope.write(envelopes);
    } catch (error) {
      span?.end(error);
      return scope.fail(error);
    }
    const ids = single ? envelopes[0]!.id : envelopes.map((e) => e.id);
    if (written === undefined) {
      span?.end();
      return Promise.resolve(ids);
    }
    return written.then(
      () => {
        span?.end();
        return ids;
      },
      (error: unknown) => {
        span?.end(error);
        throw error;
      },
    );
  }

  /** Reports an event published without a declaration, once per name. */
  private checkDeclared(name: string): void {
    if (this.declared!.has(name)) return;
    this.declared!.add(name);
    try {
      this.onUndeclared!(name);
    } catch {
      // A failing reporter must not fail the publish.
    }
  }

  /** {@link publish} with a producer span whose context travels in the headers, and counted. */
  private publishObserved(
    event: AnyEvent,
    payload: unknown,
    options: PublishOptions | undefined,
    instruments: PublishInstruments,
  ): Promise<string> {
    let headers = outgoingHeaders(options?.headers);
    let span: SpanHandle | undefined;
    if (this.instruments!.tracing) {
      span = instruments.startSpan(headers);
      if (span?.recording === true) headers = span.inject({ ...headers });
    }
    let envelope: LocalEnvelope;
    try {
      envelope = buildEnvelope(event, payload, options?.id, options?.key, headers, Date.now());
      if (this.signer !== undefined) signEnvelope(envelope, this.signer);
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

  publishMany<E extends AnyEvent>(
    event: E,
    payloads: readonly PayloadInput<E>[],
    options: PublishManyOptions = {},
  ): Promise<string[]> {
    const scope = activeOutboxScope();
    if (scope === undefined || scope.bus !== this) return this.publishManyNow(event, payloads, options);
    const now = Date.now();
    return this.toOutbox(scope, event, options.headers, false, (headers) => {
      checkIds(payloads, options.ids);
      return payloads.map((payload, index) =>
        buildEnvelope(event, payload, options.ids?.[index], options.key, headers, now, index),
      );
    }) as Promise<string[]>;
  }

  private async publishManyNow<E extends AnyEvent>(
    event: E,
    payloads: readonly PayloadInput<E>[],
    options: PublishManyOptions,
  ): Promise<string[]> {
    if (this.state !== 'open') await this.connect();
    checkIds(payloads, options.ids);
    if (payloads.length === 0) return [];
    if (this.declared !== undefined) this.checkDeclared(event.name);
    const instruments = this.instruments?.publish(event.name, this.transport);
    let headers = outgoingHeaders(options.headers);
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
        buildEnvelope(event, payload, options.ids?.[index], options.key, headers, now, index),
      );
      const signer = this.signer;
      if (signer !== undefined) for (const envelope of envelopes) signEnvelope(envelope, signer);
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
    const group = options?.group;
    const { events, name } = checkSubscription(event, handler, group);
    if (this.consumers.some((c) => c.group === group && c.event === name)) {
      throw new EventsHandlerError(
        `group "${group}" already has a handler for "${name}" on this bus; a group handles an event once: merge the handlers`,
      );
    }
    const { concurrency, maxAttempts, inbox, backoff } = resolveHandlerOptions(
      options,
      this.defaults,
      `subscribe "${name}" for group "${group}"`,
    );
    const consumer = new GroupConsumer({
      group,
      events,
      handler: handler as EventHandler,
      maxAttempts,
      backoff,
      onHandlerError: (error, meta) => this.onError(error, { kind: 'handler', group, event: name, meta }),
      instruments: this.instruments?.subscription(name, group, this.transport),
      signer: this.signer,
    });
    await this.connect();
    this.consumers.push(consumer);
    try {
      consumer.subscription = await this.transport.subscribe(
        {
          event: name,
          group,
          concurrency,
          inbox,
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
    if (this.state === 'idle' && !this.connectFailed) {
      return { ok: true, details: { state: 'idle: connects on first publish or subscribe' } };
    }
    if (this.state !== 'open') return { ok: false, details: { state: 'not connected' } };
    return this.transport.health();
  }

  async drain(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => this.stopConsumer(c)));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await stopAttached(this);
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

  private closedError(): EventsError {
    return new EventsBusClosedError(
      'the event bus was stopped; create a new bus (or app) to publish again',
    ) as EventsError;
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
    throw new EventsConfigError(
      'createEventBus needs a transport, e.g. createMemoryTransport() from @blueprint/events/transports/memory',
    );
  }
  return new Bus(options);
}

/** Throws `EVENTS_PUBLISH_INVALID` unless `publishMany` got one id per payload (or none). */
function checkIds(payloads: readonly unknown[], ids: readonly string[] | undefined): void {
  if (ids !== undefined && ids.length !== payloads.length) {
    throw new EventsPublishInvalidError(
      `publishMany got ${payloads.length} payloads but ${ids.length} ids; give one id per payload`,
    );
  }
}

/**
 * The headers an event goes out with: the request context's propagated headers (correlation id, trace
 * context) when it is published while a call or a delivery is handled, overridden by the explicit ones.
 */
function outgoingHeaders(explicit: Readonly<Record<string, string>> | undefined) {
  const inherited = requestContext()?.headers;
  if (inherited === undefined) return explicit;
  return explicit === undefined ? inherited : { ...inherited, ...explicit };
}
