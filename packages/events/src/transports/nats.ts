/**
 * The `nats` transport: NATS JetStream, one stream per app, one durable pull consumer per group and event.
 *
 * - Publishing: `js.publish("<stream>.<event>", envelope, { msgID: envelope.id, timeout })`, so a publish
 *   retried with the same id within `duplicateWindow` is stored once. While the connection is down a
 *   publish is refused at once (the client would otherwise buffer it until it reconnects); a publish that
 *   gets no acknowledgement within `publishTimeout` rejects with `EVENTS_PUBLISH_TIMEOUT`.
 * - Storage: the events stream keeps an event until every consumer bound to its subject acked it
 *   (`retention: "interest"`), `maxAge` at most. Dead letters live in a KV bucket, replays go through a
 *   work-queue stream read only by the replayed group, the inbox is a KV bucket per group.
 * - Consuming: see `nats-consumer.ts` (pull requests sized to free slots, `+ACK` / `-NAK {delay}` /
 *   `+TERM`, `+WPI` leases, recovery after reconnects).
 *
 * `nats` is an optional peer dependency, imported only when this transport connects.
 */
import { hostname } from 'node:os';
import { type HealthCheckResult, jsonCodec, parseByteSize } from '@blueprint/core';
import type {
  ConnectionOptions,
  ConsumerConfig,
  JetStreamClient,
  JetStreamManager,
  KV,
  KvEntry,
  NatsConnection,
  StreamConfig,
  StreamInfo,
} from 'nats';
import { type EventEnvelope, encodeEnvelope } from '../envelope.js';
import { EventsError } from '../errors.js';
import { choiceOption, durationOption, wholeNumberOption } from '../option-values.js';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
  type Delivery,
  deadLetterNotFound,
  type EventTransport,
  type GroupBinding,
  parseDeadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from '../transport.js';
import { withTimeout } from '../with-timeout.js';
import { brokerUnavailable, publishTimedOut, redactUrl, transportNotOpen } from './broker-errors.js';
import { notOpenHealth, roundLatency } from './broker-health.js';
import { type DeadLetterRecord, decodeDeadLetterRecord, oldestDeadLetters } from './dead-letter-record.js';
import { driverLoader } from './driver-loader.js';
import { ThrottledErrorReporter } from './error-reporter.js';
import { NatsConsumer, type NatsConsumerHost, type NatsConsumerSettings } from './nats-consumer.js';
import { checkEventName, checkStreamName, decodeIdToken, NatsNames } from './nats-names.js';

/** Options of {@link createNatsTransport}. Durations are ms or strings like `"30s"`. */
export interface NatsTransportOptions {
  /**
   * NATS server URL, or several (`"nats://a:4222,nats://b:4222"` or an array): the client connects to one
   * and fails over to the others. Default: `"nats://127.0.0.1:4222"`.
   */
  readonly url?: string | readonly string[];
  /**
   * Name of the events stream; it also prefixes the replay stream and the KV buckets. The plugin uses
   * `"bp_<app name>"`. Letters, digits, `_`, `-`. Default: `"bp"`.
   */
  readonly stream?: string;
  /** `"file"` (survives a server restart) or `"memory"`. Default: `"file"`. */
  readonly storage?: 'file' | 'memory';
  /** Stream and KV replicas in a JetStream cluster (1, 3 or 5). Default: 1. */
  readonly replicas?: number;
  /**
   * `"interest"`: an event is deleted once every group bound to it acked it (or dead-lettered it);
   * events published to a name no group is bound to are not kept. `"limits"`: events stay until `maxAge`
   * / `maxBytes`, acked or not. Fixed when the stream is created. Default: `"interest"`.
   */
  readonly retention?: 'interest' | 'limits';
  /**
   * Longest time the stream keeps an event, handled or not: an event still pending in a group after
   * this long is dropped (`0`: no limit). Inbox entries are kept at least this long. Default: `"168h"` (7 days).
   */
  readonly maxAge?: number | string;
  /**
   * Most bytes the events stream holds (`-1` or omitted: no limit). When full, `publish` rejects with
   * `EVENTS_QUEUE_FULL` and nothing already stored is dropped. Bytes or `"512mb"`. Default: no limit.
   */
  readonly maxBytes?: number | string;
  /**
   * How long JetStream remembers published event ids to drop a second publish of the same id (a
   * publish retried after `EVENTS_PUBLISH_TIMEOUT`). The server keeps every id of this window in memory.
   * Default: `"2m"`.
   */
  readonly duplicateWindow?: number | string;
  /**
   * Visibility timeout (`ack_wait`): a delivery not settled this long after it was handed out is
   * redelivered to any replica. Running handlers keep their deliveries' leases fresh (`+WPI`), so it bounds
   * how long a crashed replica's events wait. Default: `"30s"`.
   */
  readonly ackWait?: number | string;
  /**
   * JetStream `max_deliver` of every consumer: `-1` lets the bus decide (it dead-letters at `maxAttempts`,
   * and at `maxAttempts + 1` deliveries when consumers crashed while handling). With a limit, a retry on
   * the last allowed delivery is dead-lettered, and so is (from the server's advisory) an event whose last
   * delivery went to a consumer that died. Keep it above your handlers' `maxAttempts`. Default: -1.
   */
  readonly maxDeliver?: number;
  /**
   * Most deliveries of one consumer unacked at once across replicas, retries waiting for their delay
   * included (`max_ack_pending`); when reached, the server stops delivering. Default: 10,000.
   */
  readonly maxAckPending?: number;
  /** How long one pull request waits on the server for events. Default: `"10s"`. */
  readonly pullExpires?: number | string;
  /** Most time a publish (and a dead-letter or inbox write) waits for JetStream's acknowledgement. Default: `"2s"`. */
  readonly publishTimeout?: number | string;
  /** Most time `connect` waits for the server, and the timeout of stream and consumer management requests. Default: `"5s"`. */
  readonly connectTimeout?: number | string;
  /**
   * How long each group's inbox keeps a completed event id. Default: the larger of the bus's
   * `inboxRetention` and `maxAge`, so an id stays as long as the stream may still hold its event.
   */
  readonly inboxTtl?: number | string;
  /** Client name shown by the server (`nats server report connections`). Default: `"blueprint-events-<host>-<pid>"`. */
  readonly name?: string;
  /** Extra nats.js connection options (TLS, `user`/`pass`, `token`, `authenticator`...). Reconnect settings above win. */
  readonly natsOptions?: Partial<ConnectionOptions>;
  /** Called with background errors of the connection (throttled). */
  readonly onError?: (error: unknown) => void;
}

/** Defaults of {@link NatsTransportOptions}. */
export const NATS_DEFAULTS = {
  url: 'nats://127.0.0.1:4222',
  stream: 'bp',
  storage: 'file',
  replicas: 1,
  retention: 'interest',
  maxAge: 7 * 24 * 3_600_000,
  maxBytes: -1,
  duplicateWindow: 120_000,
  ackWait: 30_000,
  maxDeliver: -1,
  maxAckPending: 10_000,
  pullExpires: 10_000,
  publishTimeout: 2_000,
  connectTimeout: 5_000,
} as const;

const RECONNECT_WAIT_MS = 250;
const PING_INTERVAL_MS = 10_000;
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const DEAD_LETTER_LIST_PARALLEL = 32;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

type NatsModule = typeof import('nats');

/** Imports nats on first use, so apps on other transports never load it. */
const loadNats = driverLoader('nats', 'nats', () => import('nats'));

function nanos(millis: number): number {
  return Math.round(millis) * 1_000_000;
}

/** The JetStream API error code of `error`, if it is one. */
function apiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
}

function errorCode(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}

const decoder = new TextDecoder();

class NatsTransport implements EventTransport, NatsConsumerHost {
  readonly kind = 'nats';
  readonly names: NatsNames;
  readonly settings: NatsConsumerSettings;
  readonly counters: Record<string, number> = {
    reconnects: 0,
    recoveries: 0,
    pullResets: 0,
    leaseRefreshes: 0,
    redeliveredHeld: 0,
    maxDeliveries: 0,
    ackFailures: 0,
    inboxReadFailures: 0,
    inboxWriteFailures: 0,
    deadLetterFailures: 0,
    errors: 0,
  };
  readonly deadLetters: DeadLetterStore;
  private nats: NatsModule | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private opening: Promise<NatsConnection> | undefined;
  private up = false;
  private closed = false;
  private readonly consumers = new Set<NatsConsumer>();
  private readonly bindings: GroupBinding[] = [];
  private readonly buckets = new Map<string, Promise<KV>>();
  private readonly inboxTtls = new Map<string, number>();
  private streamsReady: Promise<void> | undefined;
  private streamsSettled = false;
  private readonly servers: string[];
  private readonly storage: 'file' | 'memory';
  private readonly replicas: number;
  private readonly retention: 'interest' | 'limits';
  private readonly maxAge: number;
  private readonly maxBytes: number;
  private readonly duplicateWindow: number;
  private readonly maxAckPending: number;
  private readonly publishTimeout: number;
  private readonly connectTimeout: number;
  private readonly inboxTtl: number | undefined;
  private readonly clientName: string;
  private readonly natsOptions: Partial<ConnectionOptions>;
  private readonly reporter: ThrottledErrorReporter;
  private readonly rejectPublish = (error: unknown): never => {
    throw this.publishError(error);
  };

  constructor(options: NatsTransportOptions) {
    const d = NATS_DEFAULTS;
    const url = options.url ?? d.url;
    this.servers = (typeof url === 'string' ? url.split(',') : [...url])
      .map((u) => u.trim())
      .filter((u) => u.length > 0);
    const bad = this.servers.find((u) => !/^(nats|tls):\/\/[^\s/]+\/?$/.test(u));
    if (this.servers.length === 0 || bad !== undefined) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid NATS url ${JSON.stringify(bad ?? url)}: use nats://host:port (or tls://host:port), several separated by commas`,
      );
    }
    const stream = options.stream ?? d.stream;
    checkStreamName(stream);
    this.names = new NatsNames(stream);
    this.storage = choiceOption(options.storage, d.storage, 'storage', ['file', 'memory']);
    this.retention = choiceOption(options.retention, d.retention, 'retention', ['interest', 'limits']);
    this.replicas = wholeNumberOption(options.replicas, d.replicas, 'replicas', 1);
    this.maxAge = durationOption(options.maxAge, d.maxAge, 'maxAge');
    const maxBytes =
      options.maxBytes === undefined || options.maxBytes === -1 ? -1 : parseByteSize(options.maxBytes);
    if (maxBytes === undefined || maxBytes === 0) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid maxBytes ${JSON.stringify(options.maxBytes)}: use a number of bytes, a size like "512mb", or -1 for no limit`,
      );
    }
    this.maxBytes = maxBytes;
    this.duplicateWindow = durationOption(options.duplicateWindow, d.duplicateWindow, 'duplicateWindow');
    if (this.maxAge > 0 && this.duplicateWindow > this.maxAge) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `duplicateWindow (${this.duplicateWindow} ms) must not be longer than maxAge (${this.maxAge} ms): JetStream refuses it`,
      );
    }
    const ackWait = durationOption(options.ackWait, d.ackWait, 'ackWait');
    if (ackWait < 100) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid ackWait ${ackWait} ms: use at least "100ms" (handlers renew it while they run)`,
      );
    }
    this.maxAckPending = wholeNumberOption(options.maxAckPending, d.maxAckPending, 'maxAckPending', 1);
    this.publishTimeout = Math.max(
      1,
      durationOption(options.publishTimeout, d.publishTimeout, 'publishTimeout'),
    );
    this.connectTimeout = Math.max(
      1,
      durationOption(options.connectTimeout, d.connectTimeout, 'connectTimeout'),
    );
    this.inboxTtl =
      options.inboxTtl === undefined ? undefined : durationOption(options.inboxTtl, 0, 'inboxTtl');
    this.settings = {
      ackWait,
      maxDeliver: wholeNumberOption(
        options.maxDeliver,
        d.maxDeliver,
        'maxDeliver',
        1,
        'EVENTS_CONFIG_INVALID',
        -1,
      ),
      pullExpires: Math.max(100, durationOption(options.pullExpires, d.pullExpires, 'pullExpires')),
      writeTimeout: this.publishTimeout,
    };
    this.clientName = options.name ?? `blueprint-events-${hostname()}-${process.pid}`;
    this.natsOptions = options.natsOptions ?? {};
    this.reporter = new ThrottledErrorReporter(options.onError, this.counters);
    this.deadLetters = {
      list: (filter) => this.listDeadLetters(filter),
      get: (id) => this.getDeadLetter(id),
      replay: (id) => this.replayDeadLetter(id),
      discard: (id) => this.discardDeadLetter(id),
    };
  }

  connection(): NatsConnection {
    if (this.nc === undefined) throw this.unavailable('the nats transport is not connected', false);
    return this.nc;
  }

  isUp(): boolean {
    return this.up && !this.closed;
  }

  createInbox(): string {
    return this.nats!.createInbox(this.natsOptions.inboxPrefix);
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    await this.open();
    for (const binding of bindings) checkEventName(binding.event, 'EVENTS_CONFIG_INVALID');
    this.bindings.push(...bindings);
    try {
      await this.ensureStreams();
      await this.bucket(this.names.deadBucket);
      for (const { group, event } of bindings) await this.ensureGroup(group, event, false);
    } catch (error) {
      throw this.setupError('cannot create the JetStream streams and consumers', error);
    }
  }

  publish(envelope: EventEnvelope): Promise<void> {
    const js = this.js;
    if (js === undefined || this.closed) return Promise.reject(this.notOpen());
    if (!this.up)
      return Promise.reject(this.unavailable('NATS is disconnected (the client is reconnecting)', false));
    let text: string;
    try {
      checkEventName(envelope.name, 'EVENTS_PUBLISH_INVALID');
      text = encodeEnvelope(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    return js
      .publish(this.names.subject(envelope.name), text, { msgID: envelope.id, timeout: this.publishTimeout })
      .then(noop, this.rejectPublish);
  }

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    const js = this.js;
    if (js === undefined || this.closed) throw this.notOpen();
    if (envelopes.length === 0) return;
    if (!this.up) throw this.unavailable('NATS is disconnected (the client is reconnecting)', false);
    checkEventName(envelopes[0]!.name, 'EVENTS_PUBLISH_INVALID');
    const subject = this.names.subject(envelopes[0]!.name);
    const texts = envelopes.map(encodeEnvelope);
    const results = await Promise.allSettled(
      envelopes.map((envelope, i) =>
        js.publish(subject, texts[i], { msgID: envelope.id, timeout: this.publishTimeout }),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === 0) return;
    const error = this.publishError(failed[0]!.reason, true);
    throw new EventsError(
      error.code,
      `${failed.length} of ${envelopes.length} events were not confirmed (${error.message}); JetStream has no atomic batch: publish the batch again with the same ids, the stored ones are dropped as duplicates within duplicateWindow`,
      {
        cause: error,
        details: {
          ...(error.details as object),
          failed: failed.length,
          total: envelopes.length,
          maybeStored: true,
        },
      },
    );
  }

  async subscribe(
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
  ): Promise<TransportSubscription> {
    await this.open();
    checkEventName(spec.event, 'EVENTS_HANDLER_INVALID');
    const consumer = new NatsConsumer(this, spec, deliver);
    this.consumers.add(consumer);
    try {
      await this.ensureStreams();
      await this.bucket(this.names.deadBucket);
      await this.ensureGroup(spec.group, spec.event, false);
      if (spec.inbox) await this.openInbox(spec.group, spec.inboxRetention);
      consumer.start();
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw this.setupError(`cannot subscribe group "${spec.group}" to "${spec.event}"`, error);
    }
    return consumer;
  }

  async ensureGroup(group: string, event: string, recover: boolean): Promise<void> {
    const { names } = this;
    if (recover) await this.ensureStreams(true);
    const durable = names.durable(group, event);
    await this.ensureConsumer(names.stream, durable, names.subject(event), recover ? 'all' : 'new');
    await this.ensureConsumer(names.replayStream, durable, names.replaySubject(group, event), 'all');
  }

  async inboxHas(group: string, key: string): Promise<boolean> {
    const entry = await this.withBucket(this.names.inboxBucket(group), (kv) => kv.get(key));
    return entry !== null && entry.operation === 'PUT';
  }

  async inboxAdd(group: string, key: string): Promise<void> {
    await this.withBucket(this.names.inboxBucket(group), (kv) => kv.put(key, ''));
  }

  maxPayload(): number {
    return this.nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  async storeDeadLetter(key: string, record: string): Promise<void> {
    await this.withBucket(this.names.deadBucket, (kv) => kv.put(key, record));
  }

  async streamMessage(stream: string, seq: number): Promise<string | undefined> {
    try {
      const message = await this.jsm!.streams.getMessage(stream, { seq });
      return decoder.decode(message.data);
    } catch (error) {
      if (errorCode(error) === '404' || apiErrorCode(error) === 10037) return undefined;
      throw error;
    }
  }

  forget(consumer: NatsConsumer): void {
    this.consumers.delete(consumer);
  }

  async health(): Promise<HealthCheckResult> {
    const nc = this.nc;
    if (nc === undefined || this.closed) return notOpenHealth(this.closed);
    if (!this.up) return { ok: false, details: { status: 'reconnecting', server: nc.getServer() } };
    try {
      const rtt = await withTimeout(nc.rtt(), Math.min(this.publishTimeout, 1_000), 'NATS ping');
      return {
        ok: true,
        details: {
          status: 'connected',
          server: nc.getServer(),
          latencyMs: roundLatency(rtt),
          consumers: this.consumers.size,
        },
      };
    } catch (error) {
      return {
        ok: false,
        details: { status: 'unresponsive', server: nc.getServer(), error: (error as Error).message },
      };
    }
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  /**
   * The group's messages not yet delivered (`num_pending`) and delivered but not acked, retries waiting
   * for their delay included (`num_ack_pending`), on the events stream and the replay stream.
   * `undefined` while NATS does not answer (within the publish timeout, at most 1 s).
   */
  async pending({ event, group }: GroupBinding): Promise<number | undefined> {
    const jsm = this.jsm;
    if (jsm === undefined || this.closed || !this.up) return undefined;
    const durable = this.names.durable(group, event);
    const read = async (stream: string) => {
      const info = await jsm.consumers.info(stream, durable);
      return info.num_pending + info.num_ack_pending;
    };
    const [main, replay] = await withTimeout(
      Promise.all([read(this.names.stream), read(this.names.replayStream)]),
      Math.min(this.publishTimeout, 1_000),
      'NATS consumer info',
    );
    return main + replay;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    const nc = this.nc ?? (await this.opening?.catch(() => undefined));
    if (nc === undefined || nc.isClosed()) return;
    try {
      await withTimeout(nc.drain(), this.publishTimeout, 'NATS drain');
    } catch {
      // Server gone or drain stuck: close without flushing.
    }
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  }

  private open(): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(this.notOpen());
    this.opening ??= this.openConnection().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async openConnection(): Promise<NatsConnection> {
    const nats = await loadNats();
    this.nats = nats;
    let nc: NatsConnection;
    try {
      nc = await nats.connect({
        pingInterval: PING_INTERVAL_MS,
        maxPingOut: 3,
        ...this.natsOptions,
        servers: this.servers,
        name: this.clientName,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        reconnectJitter: 100,
        waitOnFirstConnect: false,
        timeout: this.connectTimeout,
      });
    } catch (error) {
      throw this.unavailable(
        `cannot reach NATS at ${this.servers.join(', ')}: ${(error as Error).message}`,
        false,
        error,
      );
    }
    try {
      this.jsm = await nc.jetstreamManager({ timeout: this.connectTimeout });
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw this.unavailable(
        `JetStream is not available on ${nc.getServer()} (${(error as Error).message}): start nats-server with -js`,
        false,
        error,
      );
    }
    this.js = nc.jetstream({ timeout: this.publishTimeout });
    this.nc = nc;
    this.up = true;
    void this.watchStatus(nc);
    if (this.closed) await nc.close().catch(() => undefined);
    return nc;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.up = false;
      else if (status.type === 'reconnect') {
        this.up = true;
        this.counters.reconnects!++;
        this.streamsReady = undefined;
        this.buckets.clear();
        for (const consumer of this.consumers) consumer.reconnected();
      } else if (status.type === 'error') this.report(status.data);
    }
  }

  /** Creates the events and replay streams when missing (again after a reconnect, in case the server lost them). */
  private ensureStreams(force = false): Promise<void> {
    if (force && this.streamsSettled) this.streamsReady = undefined;
    if (this.streamsReady === undefined) {
      this.streamsSettled = false;
      this.streamsReady = this.createStreams().then(
        () => {
          this.streamsSettled = true;
        },
        (error: unknown) => {
          this.streamsReady = undefined;
          throw error;
        },
      );
    }
    return this.streamsReady;
  }

  private async createStreams(): Promise<void> {
    const { RetentionPolicy, StorageType, DiscardPolicy } = this.nats!;
    const { names } = this;
    const common: Partial<StreamConfig> = {
      storage: this.storage === 'file' ? StorageType.File : StorageType.Memory,
      num_replicas: this.replicas,
      max_age: nanos(this.maxAge),
      duplicate_window: nanos(this.duplicateWindow),
    };
    await this.ensureStream({
      ...common,
      name: names.stream,
      subjects: [`${names.stream}.>`],
      retention: this.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
      max_bytes: this.maxBytes,
      discard: DiscardPolicy.New,
    });
    await this.ensureStream({
      ...common,
      name: names.replayStream,
      subjects: [`${names.replayStream}.>`],
      retention: RetentionPolicy.Workqueue,
    });
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    const jsm = this.jsm!;
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(config.name);
    } catch (error) {
      if (apiErrorCode(error) !== STREAM_NOT_FOUND) throw error;
      try {
        await jsm.streams.add(config);
        return;
      } catch (addError) {
        // Another process created it first.
        info = await jsm.streams.info(config.name).catch(() => {
          throw addError;
        });
      }
    }
    if (info.config.retention !== config.retention) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `JetStream stream "${config.name}" exists with retention "${info.config.retention}", but this transport needs "${config.retention}"; set retention to match, or delete the stream (nats stream rm ${config.name})`,
      );
    }
  }

  private async ensureConsumer(
    stream: string,
    durable: string,
    filter: string,
    deliver: 'new' | 'all',
  ): Promise<void> {
    const { AckPolicy, DeliverPolicy, ReplayPolicy } = this.nats!;
    const jsm = this.jsm!;
    const { ackWait, maxDeliver } = this.settings;
    const wanted: Partial<ConsumerConfig> = {
      ack_wait: nanos(ackWait),
      max_deliver: maxDeliver,
      max_ack_pending: this.maxAckPending,
    };
    try {
      const info = await jsm.consumers.info(stream, durable);
      const c = info.config;
      if (
        c.ack_wait !== wanted.ack_wait ||
        c.max_deliver !== wanted.max_deliver ||
        c.max_ack_pending !== wanted.max_ack_pending
      ) {
        await jsm.consumers.update(stream, durable, wanted);
      }
    } catch (error) {
      if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw error;
      await jsm.consumers.add(stream, {
        ...wanted,
        durable_name: durable,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: deliver === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
      });
    }
  }

  /** A KV bucket, created when missing. */
  private bucket(name: string, ttl?: number): Promise<KV> {
    let kv = this.buckets.get(name);
    if (kv === undefined) {
      kv = this.js!.views.kv(name, {
        history: 1,
        storage: this.storage === 'file' ? this.nats!.StorageType.File : this.nats!.StorageType.Memory,
        replicas: this.replicas,
        timeout: this.publishTimeout,
        ...(ttl === undefined ? {} : { ttl }),
      }).catch((error: unknown) => {
        this.buckets.delete(name);
        throw error;
      });
      this.buckets.set(name, kv);
    }
    return kv;
  }

  /** Runs `fn` on a bucket; when the bucket vanished (a server that lost its data), creates it and runs `fn` again. */
  private async withBucket<T>(name: string, fn: (kv: KV) => Promise<T>): Promise<T> {
    const kv = await this.bucket(name, this.inboxTtls.get(name));
    try {
      return await fn(kv);
    } catch (error) {
      if (errorCode(error) !== '503' && apiErrorCode(error) !== STREAM_NOT_FOUND) throw error;
      this.buckets.delete(name);
      return fn(await this.bucket(name, this.inboxTtls.get(name)));
    }
  }

  /** Opens a group's inbox, raising its TTL when an existing bucket keeps ids for less long. */
  private async openInbox(group: string, retention: number): Promise<void> {
    const name = this.names.inboxBucket(group);
    const ttl = this.inboxTtl ?? (this.maxAge === 0 ? 0 : Math.max(retention, this.maxAge));
    this.inboxTtls.set(name, Math.max(ttl, this.inboxTtls.get(name) ?? 0));
    const kv = await this.bucket(name, ttl);
    const status = await kv.status();
    if (status.ttl !== 0 && (ttl === 0 || status.ttl < ttl)) {
      await this.jsm!.streams.update(status.streamInfo.config.name, { max_age: nanos(ttl) });
    }
  }

  private async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const names = this.names;
    const kv = await this.bucket(names.deadBucket);
    const keys: string[] = [];
    for await (const key of await kv.keys(names.deadFilter(filter.group, filter.event))) keys.push(key);
    const letters: DeadLetter[] = [];
    for (let i = 0; i < keys.length; i += DEAD_LETTER_LIST_PARALLEL) {
      const entries = await Promise.all(
        keys.slice(i, i + DEAD_LETTER_LIST_PARALLEL).map((key) => kv.get(key)),
      );
      for (const entry of entries) {
        const letter = entry === null ? undefined : this.toDeadLetter(entry);
        if (letter !== undefined) letters.push(letter);
      }
    }
    return oldestDeadLetters(letters, filter.limit);
  }

  private async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const entry = await this.deadEntry(id);
    return entry === undefined ? undefined : this.toDeadLetter(entry);
  }

  private async replayDeadLetter(id: string): Promise<void> {
    const entry = await this.deadEntry(id);
    const letter = entry === undefined ? undefined : this.toDeadLetter(entry);
    if (entry === undefined || letter === undefined) throw deadLetterNotFound(id);
    const record = jsonCodec.decode(entry.string()) as DeadLetterRecord;
    // The id includes the record's revision: a replay retried after a lost reply is stored once, a later
    // dead letter of the same event can still be replayed.
    await this.js!.publish(this.names.replaySubject(letter.group, letter.event), record.e, {
      msgID: `${letter.eventId}:replay:${entry.revision}`,
      timeout: this.publishTimeout,
    });
    const kv = await this.bucket(this.names.deadBucket);
    await kv.delete(entry.key, { previousSeq: entry.revision }).catch((error: unknown) => {
      // A newer dead letter of the same event replaced this one meanwhile: keep it.
      if (apiErrorCode(error) !== 10071) throw error;
    });
  }

  private async discardDeadLetter(id: string): Promise<void> {
    const entry = await this.deadEntry(id);
    if (entry === undefined) throw deadLetterNotFound(id);
    const kv = await this.bucket(this.names.deadBucket);
    await kv.delete(entry.key);
  }

  private async deadEntry(id: string): Promise<KvEntry | undefined> {
    const parts = parseDeadLetterId(id);
    if (parts === undefined) return undefined;
    try {
      checkEventName(parts.event, 'EVENTS_DEAD_LETTER_NOT_FOUND');
    } catch {
      return undefined;
    }
    const kv = await this.bucket(this.names.deadBucket);
    const entry = await kv.get(this.names.deadKey(parts.group, parts.event, parts.eventId));
    return entry === null || entry.operation !== 'PUT' ? undefined : entry;
  }

  private toDeadLetter(entry: KvEntry): DeadLetter | undefined {
    if (entry.operation !== 'PUT') return undefined;
    const [group, ...rest] = entry.key.split('.');
    const token = rest.pop();
    if (group === undefined || token === undefined) return undefined;
    const event = rest.join('.');
    return decodeDeadLetterRecord(`${group}:${event}:${decodeIdToken(token)}`, entry.string());
  }

  private publishError(error: unknown, batch = false): EventsError {
    if (error instanceof EventsError) return error;
    const code = errorCode(error);
    const message = String((error as Error)?.message);
    if (code === 'TIMEOUT') return publishTimedOut('JetStream', this.publishTimeout, error);
    if (code === '503') {
      // No stream listens on the subject (the server lost it, or JetStream is restarting): make it again.
      if (!batch) this.ensureStreams(true).catch((e: unknown) => this.report(e));
      return this.unavailable(`no JetStream stream answered (${message})`, false, error);
    }
    if (code === 'MAX_PAYLOAD_EXCEEDED') {
      const limit = this.nc?.info?.max_payload;
      return new EventsError(
        'EVENTS_PUBLISH_INVALID',
        `the event is larger than the NATS server accepts (max_payload ${limit ?? 'unknown'} bytes); nothing was stored: publish a reference to the data instead, or raise max_payload on the server`,
        { cause: error, details: { maxPayload: limit } },
      );
    }
    if (/maximum (bytes|messages)/i.test(message)) {
      return new EventsError(
        'EVENTS_QUEUE_FULL',
        `the JetStream stream "${this.names.stream}" is full (${message}); nothing was stored. Consumers fall behind: raise maxBytes or add replicas`,
        { cause: error, details: { stream: this.names.stream, maxBytes: this.maxBytes } },
      );
    }
    const notSent = code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DRAINING';
    return this.unavailable(`JetStream refused the event: ${message}`, !notSent, error);
  }

  private setupError(what: string, error: unknown): EventsError {
    if (error instanceof EventsError) return error;
    return this.unavailable(`${what}: ${(error as Error)?.message}`, false, error);
  }

  private unavailable(why: string, maybeStored: boolean, cause?: unknown): EventsError {
    return brokerUnavailable(why, maybeStored, { servers: this.servers.map(redactUrl) }, cause);
  }

  private notOpen(): EventsError {
    return transportNotOpen(this.kind, this.closed, { servers: this.servers.map(redactUrl) });
  }

  private report(error: unknown): void {
    this.reporter.report(error);
  }
}

function noop(): void {}

/**
 * Creates the `nats` transport (NATS JetStream). Nothing connects until the bus connects.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createNatsTransport({ url: 'nats://127.0.0.1:4222', stream: 'bp_shop', ackWait: '30s' }),
 * });
 */
export function createNatsTransport(options: NatsTransportOptions = {}): EventTransport {
  return new NatsTransport(options);
}
