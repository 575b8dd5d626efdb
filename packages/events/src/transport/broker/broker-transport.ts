/**
 * The skeleton every broker transport shares (redis-streams, nats, and a Kafka one): the connection
 * lifecycle, coded publish errors, the dead-letter store, health, subscriptions, counters, throttled
 * background errors and close. A broker transport extends it and fills in how its broker connects,
 * stores, consumes and keeps dead letters.
 */
import type { HealthCheckResult } from '@blueprint/core';
import type { EventEnvelope } from '../../envelope.js';
import type {
  DeadLetterStore,
  Delivery,
  EventTransport,
  GroupBinding,
  SubscriptionSpec,
  TransportSubscription,
} from '../event-transport.js';
import { BrokerConnection } from './broker-connection.js';
import type { BrokerConsumer } from './broker-consumer.js';
import { BrokerErrors, type PublishFailure } from './broker-errors.js';
import { type BrokerHealthProbe, brokerHealth } from './broker-health.js';
import { createDeadLetterStore, type DeadLetterBackend, type StoredDeadLetter } from './dead-letter-store.js';
import { ThrottledErrorReporter } from './error-reporter.js';

/** What a broker transport tells its base class. */
export interface BrokerTransportSettings {
  /** The transport type: `"redis-streams"`, `"nats"`. */
  readonly type: string;
  /** The OpenTelemetry `messaging.system` of spans. Default: `type`. */
  readonly messagingSystem?: string;
  /** The broker as messages name it when it refuses an event: `"Redis"`, `"JetStream"`. */
  readonly broker: string;
  /** The broker and where, as a failed connect names it: `Redis at redis://127.0.0.1:6379`. */
  readonly describe: string;
  /** Where the broker is, for error `details` (`{ url }`, `{ servers }`), passwords redacted. */
  readonly where: Readonly<Record<string, unknown>>;
  /** Bound on a publish, in ms. */
  readonly publishTimeout: number;
  /** Bound on connecting, in ms. */
  readonly connectTimeout: number;
  /** Bound on the health check's round trip, in ms. */
  readonly healthTimeout: number;
  /** The transport's counters, at zero (`errors` counts background errors). */
  readonly counters: Record<string, number>;
  /** Where background errors go (throttled). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * A broker transport. `C` is the client (an ioredis connection, a NATS connection), `S` the
 * subscriptions it makes.
 */
export abstract class BrokerTransport<C, S extends BrokerConsumer<any>> implements EventTransport {
  /** See {@link EventTransport.type}. */
  readonly type: string;
  /** See {@link EventTransport.messagingSystem}. */
  readonly messagingSystem: string;
  /** The counters `stats()` reports. */
  readonly counters: Record<string, number>;
  /** The transport's coded errors. */
  protected readonly errors: BrokerErrors;
  /** The client, opened on first use. */
  protected readonly connection: BrokerConnection<C>;
  /** The open subscriptions. */
  protected readonly consumers = new Set<S>();
  /** Bound on a publish, in ms. */
  protected readonly publishTimeout: number;
  /** Rejects a publish with its coded error; use as a promise's rejection handler. */
  protected readonly rejectPublish = (error: unknown): never => {
    throw this.errors.publish(error);
  };
  /** Forgets a closed subscription; give it to the subscriptions. */
  protected readonly forget = (consumer: object): void => {
    this.consumers.delete(consumer as S);
  };
  private readonly reporter: ThrottledErrorReporter;
  private readonly healthTimeout: number;
  private store: DeadLetterStore | undefined;

  protected constructor(settings: BrokerTransportSettings) {
    this.type = settings.type;
    this.messagingSystem = settings.messagingSystem ?? settings.type;
    this.counters = settings.counters;
    this.publishTimeout = settings.publishTimeout;
    this.healthTimeout = settings.healthTimeout;
    this.errors = new BrokerErrors({
      type: settings.type,
      broker: settings.broker,
      where: settings.where,
      publishTimeout: settings.publishTimeout,
      classify: (error) => this.classifyPublishError(error),
    });
    this.connection = new BrokerConnection<C>(
      { open: (signal) => this.openClient(signal), close: (client) => this.closeClient(client) },
      { connectTimeout: settings.connectTimeout, describe: settings.describe, errors: this.errors },
    );
    this.reporter = new ThrottledErrorReporter(settings.onError, this.counters);
  }

  abstract connect(bindings: readonly GroupBinding[]): Promise<void>;
  abstract publish(envelope: EventEnvelope): Promise<void>;
  abstract publishMany(envelopes: readonly EventEnvelope[]): Promise<void>;

  /** Opens the client (see {@link BrokerConnector.open}). */
  protected abstract openClient(signal: AbortSignal): Promise<C>;
  /** Closes the client for good. */
  protected abstract closeClient(client: C): Promise<void>;
  /** How a client error of a publish reads. */
  protected abstract classifyPublishError(error: unknown): PublishFailure;
  /** A new subscription, not started. */
  protected abstract createConsumer(spec: SubscriptionSpec, deliver: (delivery: Delivery) => void): S;
  /** Makes sure the subscription's group exists, then starts fetching. */
  protected abstract startConsumer(consumer: S, spec: SubscriptionSpec): Promise<void>;
  /** What the health check asks the open client. */
  protected abstract healthProbe(client: C): BrokerHealthProbe;
  /** How the broker keeps dead letters. */
  protected abstract deadLetterBackend(): DeadLetterBackend<StoredDeadLetter>;

  /** See {@link EventTransport.deadLetters}. */
  get deadLetters(): DeadLetterStore {
    this.store ??= createDeadLetterStore(this.deadLetterBackend());
    return this.store;
  }

  async subscribe(
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
  ): Promise<TransportSubscription> {
    await this.connection.open();
    const consumer = this.createConsumer(spec, deliver);
    this.consumers.add(consumer);
    try {
      await this.startConsumer(consumer, spec);
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw this.errors.setup(`cannot subscribe group "${spec.group}" to "${spec.event}"`, error);
    }
    return consumer;
  }

  health(): Promise<HealthCheckResult> {
    const client = this.connection.current;
    return brokerHealth(
      client === undefined ? undefined : this.healthProbe(client),
      this.connection.closed,
      this.consumers.size,
      this.healthTimeout,
    );
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  /** Closes the subscriptions (their acks written while the client is still up), then the client. */
  close(): Promise<void> {
    return this.connection.close(async () => {
      this.onClose();
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()));
    });
  }

  /** Called first on close: stop the transport's own timers. */
  protected onClose(): void {}

  /** Counts a background error and reports it (a repeat of the last message within 5 s is not reported again). */
  protected report(error: unknown): void {
    this.reporter.report(error);
  }
}
