/**
 * The `nats` transport: NATS JetStream, one stream per app, one durable pull consumer per group and event.
 *
 * - Publishing: `js.publish("<stream>.<event>", envelope, { msgID: envelope.id, timeout })`, so a publish
 *   retried with the same id within `duplicateWindow` is stored once. While the connection is down a
 *   publish is refused at once (the client would otherwise buffer it until it reconnects); a publish that
 *   gets no acknowledgement within `publishTimeout` rejects with `EVENTS_PUBLISH_TIMEOUT`.
 * - Storage: the events stream keeps an event until every consumer bound to its subject acked it
 *   (`retention: "interest"`), `maxAge` at most. Dead letters live in a KV bucket, replays go through a
 *   work-queue stream read only by the replayed group, the inbox is a KV bucket per group (`jetstream.ts`).
 * - Consuming: see `consumer.ts` (pull requests sized to free slots, `+ACK` / `-NAK {delay}` /
 *   `+TERM`, `+WPI` leases, recovery after reconnects).
 *
 * `nats` is an optional peer dependency, imported only when this transport connects.
 */
import { hostname } from 'node:os';
import { jsonCodec, optionalPeer } from '@blueprint/core/transport';
import type { ConnectionOptions, KvEntry, NatsConnection } from 'nats';
import { type EventEnvelope, encodeEnvelope } from '../../envelope.js';
import {
  EventsConfigError,
  EventsDriverMissingError,
  type EventsError,
  EventsHandlerError,
  EventsPublishInvalidError,
  EventsQueueFullError,
  eventsErrorClass,
} from '../../errors.js';
import { withTimeout } from '../../internal/with-timeout.js';
import { type PublishFailure, redactUrl } from '../../transport/broker/broker-errors.js';
import type { BrokerHealthProbe } from '../../transport/broker/broker-health.js';
import { BrokerTransport } from '../../transport/broker/broker-transport.js';
import type { DeadLetterRecord } from '../../transport/broker/dead-letter-record.js';
import type { DeadLetterBackend, StoredDeadLetter } from '../../transport/broker/dead-letter-store.js';
import type { Delivery, GroupBinding, SubscriptionSpec } from '../../transport/event-transport.js';
import { NatsConsumer, type NatsConsumerHost, type NatsConsumerSettings } from './consumer.js';
import { apiErrorCode, errorCode, JetStream, type NatsModule } from './jetstream.js';
import { checkEventName, decodeIdToken, isSubjectSafe, NatsNames } from './names.js';
import type { NatsSettings, NatsTransportContext } from './options.js';

const RECONNECT_WAIT_MS = 250;
const PING_INTERVAL_MS = 10_000;
const DEAD_LETTER_LIST_PARALLEL = 32;
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Imports nats on first use, so apps on other transports never load it. */
const loadNats = optionalPeer(
  { pkg: 'nats', needed: 'the nats event transport', error: EventsDriverMissingError },
  () => import('nats'),
);

const decoder = new TextDecoder();

/** A dead letter in the KV bucket, with its entry (its revision guards a replay). */
interface KvDeadLetter extends StoredDeadLetter {
  readonly entry: KvEntry;
}

/** The stream a transport in app `appName` uses by default: `bp_<app name>`, characters NATS refuses replaced. */
function defaultStream(appName: string | undefined): string {
  return appName === undefined ? 'bp' : `bp_${appName.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

/** The `nats` transport. */
export class NatsTransport extends BrokerTransport<NatsConnection, NatsConsumer> implements NatsConsumerHost {
  readonly names: NatsNames;
  readonly settings: NatsConsumerSettings;
  private nats: NatsModule | undefined;
  private jetstream: JetStream | undefined;
  private up = false;
  private readonly bindings: GroupBinding[] = [];
  private readonly options: NatsSettings;
  private readonly clientName: string;
  private readonly natsOptions: Partial<ConnectionOptions>;

  constructor(options: NatsSettings, context: NatsTransportContext) {
    const servers = options.url.map(redactUrl);
    super({
      type: 'nats',
      broker: 'JetStream',
      describe: `NATS at ${servers.join(', ')}`,
      where: { servers },
      publishTimeout: options.publishTimeout,
      connectTimeout: options.connectTimeout,
      healthTimeout: Math.min(options.publishTimeout, 1_000),
      counters: {
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
      },
      onError: context.onError,
    });
    this.options = options;
    this.names = new NatsNames(options.stream ?? defaultStream(context.appName));
    this.settings = {
      ackWait: options.ackWait,
      maxDeliver: options.maxDeliver,
      pullExpires: options.pullExpires,
      writeTimeout: options.publishTimeout,
    };
    this.clientName = options.name ?? `blueprint-events-${hostname()}-${process.pid}`;
    this.natsOptions = context.natsOptions ?? {};
  }

  client(): NatsConnection {
    return this.connection.get();
  }

  isUp(): boolean {
    return this.up && !this.connection.closed;
  }

  createInbox(): string {
    return this.nats!.createInbox(this.natsOptions.inboxPrefix);
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    await this.connection.open();
    for (const binding of bindings) checkEventName(binding.event, EventsConfigError);
    this.bindings.push(...bindings);
    try {
      const jetstream = this.jetstream!;
      await jetstream.ensureStreams();
      await jetstream.bucket(this.names.deadBucket);
      for (const { group, event } of bindings) await jetstream.ensureGroup(group, event, false);
    } catch (error) {
      throw this.errors.setup('cannot create the JetStream streams and consumers', error);
    }
  }

  publish(envelope: EventEnvelope): Promise<void> {
    const js = this.jetstream?.js;
    if (js === undefined || this.connection.usable === undefined)
      return Promise.reject(this.connection.notOpen());
    if (!this.up) {
      return Promise.reject(
        this.errors.unavailable('NATS is disconnected (the client is reconnecting)', false),
      );
    }
    let text: string;
    try {
      checkEventName(envelope.name, EventsPublishInvalidError);
      text = encodeEnvelope(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    return js
      .publish(this.names.subject(envelope.name), text, { msgID: envelope.id, timeout: this.publishTimeout })
      .then(noop, this.rejectPublish);
  }

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    const js = this.jetstream?.js;
    if (js === undefined || this.connection.usable === undefined) throw this.connection.notOpen();
    if (envelopes.length === 0) return;
    if (!this.up) throw this.errors.unavailable('NATS is disconnected (the client is reconnecting)', false);
    checkEventName(envelopes[0]!.name, EventsPublishInvalidError);
    const subject = this.names.subject(envelopes[0]!.name);
    const texts = envelopes.map(encodeEnvelope);
    const results = await Promise.allSettled(
      envelopes.map((envelope, i) =>
        js.publish(subject, texts[i], { msgID: envelope.id, timeout: this.publishTimeout }),
      ),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === 0) return;
    const error = this.errors.publish(failed[0]!.reason);
    throw new (eventsErrorClass(error.code))(
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

  ensureGroup(group: string, event: string, recover: boolean): Promise<void> {
    return this.jetstream!.ensureGroup(group, event, recover);
  }

  async inboxHas(group: string, key: string): Promise<boolean> {
    const entry = await this.jetstream!.withBucket(this.names.inboxBucket(group), (kv) => kv.get(key));
    return entry !== null && entry.operation === 'PUT';
  }

  async inboxAdd(group: string, key: string): Promise<void> {
    await this.jetstream!.withBucket(this.names.inboxBucket(group), (kv) => kv.put(key, ''));
  }

  maxPayload(): number {
    return this.connection.current?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  async storeDeadLetter(key: string, record: string): Promise<void> {
    await this.jetstream!.withBucket(this.names.deadBucket, (kv) => kv.put(key, record));
  }

  async streamMessage(stream: string, seq: number): Promise<string | undefined> {
    try {
      const message = await this.jetstream!.jsm.streams.getMessage(stream, { seq });
      return decoder.decode(message.data);
    } catch (error) {
      if (errorCode(error) === '404' || apiErrorCode(error) === 10037) return undefined;
      throw error;
    }
  }

  /**
   * The group's messages not yet delivered (`num_pending`) and delivered but not acked, retries waiting
   * for their delay included (`num_ack_pending`), on the events stream and the replay stream.
   * `undefined` while NATS does not answer (within the publish timeout, at most 1 s).
   */
  async pending({ event, group }: GroupBinding): Promise<number | undefined> {
    const jsm = this.jetstream?.jsm;
    if (jsm === undefined || this.connection.usable === undefined || !this.up) return undefined;
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

  protected async openClient(): Promise<NatsConnection> {
    const nats = await loadNats();
    this.nats = nats;
    const { connectTimeout, publishTimeout } = this.options;
    const nc = await nats.connect({
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: 3,
      ...this.natsOptions,
      servers: this.options.url,
      name: this.clientName,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      reconnectJitter: 100,
      waitOnFirstConnect: false,
      timeout: connectTimeout,
    });
    let jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>;
    try {
      jsm = await nc.jetstreamManager({ timeout: connectTimeout });
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw this.errors.unavailable(
        `JetStream is not available on ${nc.getServer()} (${(error as Error).message}): start nats-server with -js`,
        false,
        error,
      );
    }
    const js = nc.jetstream({ timeout: publishTimeout });
    this.jetstream = new JetStream(nats, jsm, js, this.names, this.options);
    this.up = true;
    void this.watchStatus(nc);
    return nc;
  }

  protected async closeClient(nc: NatsConnection): Promise<void> {
    if (nc.isClosed()) return;
    try {
      await withTimeout(nc.drain(), this.publishTimeout, 'NATS drain');
    } catch {
      // Server gone or drain stuck: close without flushing.
    }
    if (!nc.isClosed()) await nc.close().catch(() => undefined);
  }

  protected classifyPublishError(error: unknown): PublishFailure {
    const code = errorCode(error);
    const message = String((error as Error)?.message);
    if (code === 'TIMEOUT') return 'timeout';
    if (code === '503') {
      // No stream listens on the subject (the server lost it, or JetStream is restarting): make it again.
      this.jetstream?.ensureStreams(true).catch((e: unknown) => this.report(e));
      return this.errors.unavailable(`no JetStream stream answered (${message})`, false, error);
    }
    if (code === 'MAX_PAYLOAD_EXCEEDED') {
      const limit = this.connection.current?.info?.max_payload;
      return new EventsPublishInvalidError(
        `the event is larger than the NATS server accepts (max_payload ${limit ?? 'unknown'} bytes); nothing was stored: publish a reference to the data instead, or raise max_payload on the server`,
        { cause: error, details: { maxPayload: limit } },
      ) as EventsError;
    }
    if (/maximum (bytes|messages)/i.test(message)) {
      const { stream } = this.names;
      return new EventsQueueFullError(
        `the JetStream stream "${stream}" is full (${message}); nothing was stored. Consumers fall behind: raise maxBytes or add replicas`,
        { cause: error, details: { stream, maxBytes: this.options.maxBytes } },
      ) as EventsError;
    }
    return code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DRAINING' ? 'not-sent' : 'maybe-sent';
  }

  protected createConsumer(spec: SubscriptionSpec, deliver: (delivery: Delivery) => void): NatsConsumer {
    return new NatsConsumer(this, spec, deliver, this.forget);
  }

  protected async startConsumer(consumer: NatsConsumer, spec: SubscriptionSpec): Promise<void> {
    checkEventName(spec.event, EventsHandlerError);
    const jetstream = this.jetstream!;
    await jetstream.ensureStreams();
    await jetstream.bucket(this.names.deadBucket);
    await jetstream.ensureGroup(spec.group, spec.event, false);
    if (spec.inbox) await jetstream.openInbox(spec.group, spec.inboxRetention);
    consumer.start();
  }

  protected healthProbe(nc: NatsConnection): BrokerHealthProbe {
    const server = nc.getServer();
    return {
      details: { status: 'connected', server },
      down: this.up ? undefined : { status: 'reconnecting', server },
      ping: () => nc.rtt(),
      unresponsive: 'unresponsive',
    };
  }

  protected deadLetterBackend(): DeadLetterBackend<KvDeadLetter> {
    const { names } = this;
    const bucket = () => this.jetstream!.bucket(names.deadBucket);
    return {
      scan: async (filter) => {
        const kv = await bucket();
        const keys: string[] = [];
        for await (const key of await kv.keys(names.deadFilter(filter.group, filter.event))) keys.push(key);
        const records: KvDeadLetter[] = [];
        for (let i = 0; i < keys.length; i += DEAD_LETTER_LIST_PARALLEL) {
          const entries = await Promise.all(
            keys.slice(i, i + DEAD_LETTER_LIST_PARALLEL).map((key) => kv.get(key)),
          );
          for (const entry of entries) {
            const record = entry === null ? undefined : storedDeadLetter(entry);
            if (record !== undefined) records.push(record);
          }
        }
        return records;
      },
      read: async ({ group, event, eventId }) => {
        if (!isSubjectSafe(event)) return undefined;
        const entry = await (await bucket()).get(names.deadKey(group, event, eventId));
        return entry === null ? undefined : storedDeadLetter(entry);
      },
      replay: async ({ entry, text }, { group, event, eventId }) => {
        const record = jsonCodec.decode(text) as DeadLetterRecord;
        // The id includes the record's revision: a replay retried after a lost reply is stored once, a later
        // dead letter of the same event can still be replayed.
        await this.jetstream!.js.publish(names.replaySubject(group, event), record.e, {
          msgID: `${eventId}:replay:${entry.revision}`,
          timeout: this.publishTimeout,
        });
        await (await bucket()).delete(entry.key, { previousSeq: entry.revision }).catch((error: unknown) => {
          // A newer dead letter of the same event replaced this one meanwhile: keep it.
          if (apiErrorCode(error) !== 10071) throw error;
        });
        return true;
      },
      remove: async ({ entry }) => {
        await (await bucket()).delete(entry.key);
        return true;
      },
    };
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.up = false;
      else if (status.type === 'reconnect') {
        this.up = true;
        this.counters.reconnects!++;
        this.jetstream?.forget();
        for (const consumer of this.consumers) consumer.reconnected();
      } else if (status.type === 'error') this.report(status.data);
    }
  }
}

/** A KV entry of the dead-letter bucket as a stored dead letter (its id rebuilt from the key). */
function storedDeadLetter(entry: KvEntry): KvDeadLetter | undefined {
  if (entry.operation !== 'PUT') return undefined;
  const [group, ...rest] = entry.key.split('.');
  const token = rest.pop();
  if (group === undefined || token === undefined) return undefined;
  return { id: `${group}:${rest.join('.')}:${decodeIdToken(token)}`, text: entry.string(), entry };
}

function noop(): void {}
