/**
 * The `kafka` transport: one topic per event name, one Kafka consumer group per subscribing service and
 * event, a retry topic per group and event, dead letters in a compacted topic, the inbox in a topic per
 * group.
 *
 * - Publishing: an idempotent producer with `acks: -1`, batched (`publisher.ts`); the record key is the
 *   event's key (else its id), so events with one key land on one partition and keep their order.
 * - Consuming: see `consumer.ts`.
 * - Topics: created when first needed with `partitions` and `replicationFactor`, or, with
 *   `createTopics: false`, required to exist.
 *
 * `kafkajs` is an optional peer dependency, imported only when this transport connects.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { jsonCodec, optionalPeer } from '@blueprint/core/transport';
import type { Admin, Consumer, Kafka, Message, Producer } from 'kafkajs';
import { type EventEnvelope, encodeEnvelope } from '../../envelope.js';
import {
  EventsConfigError,
  EventsDriverMissingError,
  type EventsError,
  EventsPublishInvalidError,
} from '../../errors.js';
import { withTimeout } from '../../internal/with-timeout.js';
import type { PublishFailure } from '../../transport/broker/broker-errors.js';
import type { BrokerHealthProbe } from '../../transport/broker/broker-health.js';
import { BrokerTransport } from '../../transport/broker/broker-transport.js';
import type { DeadLetterRecord } from '../../transport/broker/dead-letter-record.js';
import type { DeadLetterBackend, StoredDeadLetter } from '../../transport/broker/dead-letter-store.js';
import type { Delivery, GroupBinding, SubscriptionSpec } from '../../transport/event-transport.js';
import { type InboxView, KafkaConsumer, type KafkaConsumerHost } from './consumer.js';
import { KafkaInbox } from './inbox.js';
import { defaultPrefix, HEADERS, KafkaNames } from './names.js';
import type { KafkaSettings, KafkaTransportContext } from './options.js';
import { KafkaPublisher } from './publisher.js';
import { TopicReader } from './topic-reader.js';

/** Imports kafkajs on first use, so apps on other transports never load it. */
const loadKafkajs = optionalPeer(
  { pkg: 'kafkajs', needed: 'the kafka event transport', error: EventsDriverMissingError },
  () => import('kafkajs'),
);

type KafkajsModule = Awaited<ReturnType<typeof loadKafkajs>>;

/** The open client: the kafkajs instance and its admin. */
interface KafkaClient {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly module: KafkajsModule;
}

/** What kind of topic, for its creation settings. */
type TopicKind = 'events' | 'retry' | 'inbox' | 'dead-letters';

const HOUR_MS = 3_600_000;

/** The `kafka` transport. */
export class KafkaTransport extends BrokerTransport<KafkaClient, KafkaConsumer> implements KafkaConsumerHost {
  readonly names: KafkaNames;
  readonly heartbeatInterval: number;
  readonly writeTimeout: number;
  readonly maxEventBytes: number;
  private readonly options: KafkaSettings;
  private readonly clientId: string;
  private readonly kafkaOptions: KafkaTransportContext['kafkaOptions'];
  private readonly publisher: KafkaPublisher;
  private readonly topics = new Map<string, Promise<void>>();
  private readonly ready = new Set<string>();
  private readonly inboxes = new Map<string, Promise<KafkaInbox>>();
  private deadLetterReader: TopicReader | undefined;
  private readonly deadLetterTexts = new Map<string, string>();
  private existing: Promise<Set<string>> | undefined;

  constructor(options: KafkaSettings, context: KafkaTransportContext) {
    super({
      type: 'kafka',
      broker: 'Kafka',
      describe: `Kafka at ${options.brokers.join(', ')}`,
      where: { brokers: options.brokers },
      publishTimeout: options.publishTimeout,
      connectTimeout: options.connectTimeout,
      healthTimeout: Math.min(options.publishTimeout, 2_000),
      counters: {
        commits: 0,
        rebalances: 0,
        crashes: 0,
        topicsCreated: 0,
        inboxReadFailures: 0,
        inboxWriteFailures: 0,
        retryWriteFailures: 0,
        deadLetterFailures: 0,
        errors: 0,
      },
      onError: context.onError,
    });
    this.options = options;
    this.names = new KafkaNames(options.prefix ?? defaultPrefix(context.appName));
    this.heartbeatInterval =
      options.heartbeatInterval ?? Math.min(3_000, Math.floor(options.sessionTimeout / 3));
    this.writeTimeout = options.publishTimeout;
    this.maxEventBytes = options.maxEventBytes;
    this.clientId = options.clientId ?? `blueprint-events-${hostname()}-${process.pid}`;
    this.kafkaOptions = context.kafkaOptions;
    this.publisher = new KafkaPublisher(
      {
        openProducer: () => this.openProducer(),
        errors: this.errors,
        report: (error) => this.report(error),
      },
      options.publishTimeout,
      options.produceBatch,
    );
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    await this.connection.open();
    try {
      await this.ensureTopic(this.names.deadLetters, 'dead-letters');
      await Promise.all(
        bindings.map(({ group, event }) =>
          Promise.all([
            this.ensureTopic(this.names.events(event), 'events'),
            this.ensureTopic(this.names.retry(group, event), 'retry'),
          ]),
        ),
      );
    } catch (error) {
      throw this.errors.setup('cannot create the Kafka topics', error);
    }
  }

  publish(envelope: EventEnvelope): Promise<void> {
    if (this.connection.usable === undefined) return Promise.reject(this.connection.notOpen());
    let message: Message;
    let topic: string;
    try {
      topic = this.names.events(envelope.name);
      message = this.record(envelope);
    } catch (error) {
      return Promise.reject(this.invalid(error));
    }
    if (this.ready.has(topic)) return this.publisher.send(topic, [message]);
    return this.ensureTopic(topic, 'events').then(
      () => this.publisher.send(topic, [message]),
      (error: unknown) => {
        throw this.errors.setup(`cannot create the Kafka topic ${topic}`, error);
      },
    );
  }

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    if (this.connection.usable === undefined) throw this.connection.notOpen();
    if (envelopes.length === 0) return;
    let topic: string;
    let messages: Message[];
    try {
      topic = this.names.events(envelopes[0]!.name);
      messages = envelopes.map((envelope) => this.record(envelope));
    } catch (error) {
      throw this.invalid(error);
    }
    await this.ensureTopic(topic, 'events').catch((error: unknown) => {
      throw this.errors.setup(`cannot create the Kafka topic ${topic}`, error);
    });
    await this.publisher.send(topic, messages);
  }

  newConsumer(groupId: string): Consumer {
    const { sessionTimeout, rebalanceTimeout, maxWait } = this.options;
    return this.client().kafka.consumer({
      groupId,
      sessionTimeout,
      rebalanceTimeout,
      heartbeatInterval: this.heartbeatInterval,
      maxWaitTimeInMs: maxWait,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  }

  admin(): Admin {
    return this.client().admin;
  }

  send(topic: string, messages: Message[]): Promise<void> {
    return this.publisher.send(topic, messages);
  }

  inbox(group: string, leastRetention: number): Promise<InboxView> {
    let inbox = this.inboxes.get(group);
    if (inbox === undefined) {
      const topic = this.names.inbox(group);
      const retention = Math.max(this.options.inboxRetention ?? HOUR_MS, leastRetention);
      const opened = new KafkaInbox(
        this,
        topic,
        this.names.readerId(`inbox.${group}`, randomUUID()),
        retention,
      );
      inbox = this.ensureTopic(topic, 'inbox', retention)
        .then(() => opened.start())
        .then(() => opened);
      inbox.catch(() => this.inboxes.delete(group));
      this.inboxes.set(group, inbox);
    }
    return inbox;
  }

  override report(error: unknown): void {
    super.report(error);
  }

  /**
   * The group's events not yet committed on the event topic and its retry topic: the high watermark
   * minus the committed position, per partition. `undefined` while Kafka does not answer.
   */
  async pending({ event, group }: GroupBinding): Promise<number | undefined> {
    const client = this.connection.usable;
    if (client === undefined) return undefined;
    const topics = [this.names.events(event), this.names.retry(group, event)];
    const groupId = this.names.groupId(group, event);
    const read = async () => {
      const committed = await client.admin.fetchOffsets({ groupId, topics });
      let lag = 0;
      for (const topic of topics) {
        const ends = await client.admin.fetchTopicOffsets(topic);
        const done = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
        for (const { partition, high, low } of ends) {
          const position = Number(done.find((p) => p.partition === partition)?.offset ?? -1);
          lag += Number(high) - Math.max(position, Number(low));
        }
      }
      return lag;
    };
    return withTimeout(read(), Math.min(this.publishTimeout, 2_000), 'Kafka offsets');
  }

  protected async openClient(signal: AbortSignal): Promise<KafkaClient> {
    const module = await loadKafkajs();
    const { Kafka: KafkaClass, logLevel } = module;
    const kafka = new KafkaClass({
      logLevel: logLevel.NOTHING,
      ...this.kafkaOptions,
      clientId: this.clientId,
      brokers: this.options.brokers,
      connectionTimeout: Math.min(this.options.connectTimeout, 3_000),
      requestTimeout: Math.max(this.options.publishTimeout, 1_000),
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const admin = kafka.admin();
    signal.addEventListener('abort', () => void admin.disconnect().catch(() => undefined));
    await admin.connect();
    await admin.describeCluster();
    return { kafka, admin, module };
  }

  protected async closeClient(client: KafkaClient): Promise<void> {
    const readers = [...this.inboxes.values()].map((inbox) =>
      inbox.then((opened) => opened.close()).catch(() => undefined),
    );
    if (this.deadLetterReader !== undefined) readers.push(this.deadLetterReader.close());
    await Promise.all(readers);
    await this.publisher.close(this.publishTimeout);
    await client.admin.disconnect().catch(() => undefined);
  }

  protected classifyPublishError(error: unknown): PublishFailure {
    const type = (error as { type?: string })?.type ?? (error as { cause?: { type?: string } })?.cause?.type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
      return new EventsPublishInvalidError(
        `the broker refused the event as too large (${type}); nothing was stored: publish a reference to the data, or raise message.max.bytes on the broker and maxEventBytes`,
        { cause: error },
      ) as EventsError;
    }
    const name = (error as Error)?.name;
    if (name === 'KafkaJSRequestTimeoutError') return 'timeout';
    return /disconnected|disconnecting/i.test(String((error as Error)?.message)) ? 'not-sent' : 'maybe-sent';
  }

  protected createConsumer(spec: SubscriptionSpec, deliver: (delivery: Delivery) => void): KafkaConsumer {
    return new KafkaConsumer(this, spec, deliver, this.forget);
  }

  protected async startConsumer(consumer: KafkaConsumer, spec: SubscriptionSpec): Promise<void> {
    await Promise.all([
      this.ensureTopic(this.names.events(spec.event), 'events'),
      this.ensureTopic(this.names.retry(spec.group, spec.event), 'retry'),
      this.ensureTopic(this.names.deadLetters, 'dead-letters'),
    ]);
    await consumer.start();
  }

  protected healthProbe(client: KafkaClient): BrokerHealthProbe {
    return {
      details: { status: 'connected', brokers: this.options.brokers },
      down: this.publisher.stuck ? { status: 'unresponsive', brokers: this.options.brokers } : undefined,
      ping: () => client.admin.describeCluster(),
      unresponsive: 'unreachable',
    };
  }

  protected deadLetterBackend(): DeadLetterBackend<StoredDeadLetter> {
    const read = async (): Promise<Map<string, string>> => {
      await this.connection.open();
      await this.ensureTopic(this.names.deadLetters, 'dead-letters');
      this.deadLetterReader ??= new TopicReader(
        this,
        this.names.deadLetters,
        this.names.readerId('dead-letters', randomUUID()),
        (key, value) => {
          if (value === null) this.deadLetterTexts.delete(key);
          else this.deadLetterTexts.set(key, value);
        },
      );
      await this.deadLetterReader.caughtUp(Math.max(this.publishTimeout, 5_000));
      return this.deadLetterTexts;
    };
    const tombstone = async (id: string) => {
      await this.send(this.names.deadLetters, [{ key: id, value: null }]);
      this.deadLetterTexts.delete(id);
    };
    return {
      scan: async () => [...(await read())].map(([id, text]) => ({ id, text })),
      read: async ({ id }) => {
        const text = (await read()).get(id);
        return text === undefined ? undefined : { id, text };
      },
      replay: async ({ id, text }, { group, event, eventId }) => {
        const record = jsonCodec.decode(text) as DeadLetterRecord;
        await this.ensureTopic(this.names.retry(group, event), 'retry');
        await this.send(this.names.retry(group, event), [
          { key: eventId, value: record.e, headers: { [HEADERS.attempts]: '0', [HEADERS.due]: '0' } },
        ]);
        await tombstone(id);
        return true;
      },
      remove: async ({ id }) => {
        await tombstone(id);
        return true;
      },
    };
  }

  private client(): KafkaClient {
    return this.connection.get();
  }

  private async openProducer(): Promise<Producer> {
    const { kafka, module } = this.client();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: module.Partitioners.DefaultPartitioner,
      retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    await producer.connect();
    return producer;
  }

  /** The record of an event: its key (else its id) as the record key, the encoded envelope as the value. */
  private record(envelope: EventEnvelope): Message {
    const value = encodeEnvelope(envelope);
    const size = Buffer.byteLength(value);
    if (size > this.maxEventBytes) {
      throw new EventsPublishInvalidError(
        `event "${envelope.name}" ${envelope.id} is ${size} bytes encoded, more than maxEventBytes (${this.maxEventBytes}); nothing was stored: publish a reference to the data instead`,
        { details: { size, maxEventBytes: this.maxEventBytes } },
      );
    }
    return { key: envelope.key ?? envelope.id, value };
  }

  private invalid(error: unknown): unknown {
    if (error instanceof RangeError) return new EventsPublishInvalidError(error.message, { cause: error });
    return error;
  }

  /** Makes sure `topic` exists: creates it (once per process) or, with `createTopics: false`, checks it. */
  private ensureTopic(topic: string, kind: TopicKind, inboxRetention = HOUR_MS): Promise<void> {
    let ensured = this.topics.get(topic);
    if (ensured === undefined) {
      ensured = (
        this.options.createTopics ? this.createTopic(topic, kind, inboxRetention) : this.requireTopic(topic)
      ).then(() => void this.ready.add(topic));
      ensured.catch(() => this.topics.delete(topic));
      this.topics.set(topic, ensured);
    }
    return ensured;
  }

  private async createTopic(topic: string, kind: TopicKind, inboxRetention: number): Promise<void> {
    const { partitions, replicationFactor, retention } = this.options;
    const configEntries: { name: string; value: string }[] = [];
    if (kind === 'dead-letters') configEntries.push({ name: 'cleanup.policy', value: 'compact' });
    else if (kind === 'inbox') configEntries.push({ name: 'retention.ms', value: String(inboxRetention) });
    else if (retention > 0) configEntries.push({ name: 'retention.ms', value: String(retention) });
    const single = kind === 'dead-letters' || kind === 'inbox';
    const deadline = Date.now() + this.options.connectTimeout;
    const admin = this.client().admin;
    const created = await untilLed(deadline, () =>
      admin.createTopics({
        topics: [{ topic, numPartitions: single ? 1 : partitions, replicationFactor, configEntries }],
        waitForLeaders: false,
        timeout: this.options.connectTimeout,
      }),
    );
    if (created) this.counters.topicsCreated!++;
    // kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker answers for a moment after
    // the controller created the topic: wait until every partition has a leader.
    await untilLed(deadline, async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((entry) => entry.name === topic);
      if (
        found === undefined ||
        found.partitions.length === 0 ||
        found.partitions.some((p) => p.leader < 0)
      ) {
        throw Object.assign(new Error(`the Kafka topic ${topic} has no leader yet`), { retriable: true });
      }
    });
  }

  private async requireTopic(topic: string): Promise<void> {
    this.existing ??= this.client()
      .admin.listTopics()
      .then((names) => new Set(names));
    let existing = await this.existing;
    if (!existing.has(topic)) {
      this.existing = undefined;
      this.existing = this.client()
        .admin.listTopics()
        .then((names) => new Set(names));
      existing = await this.existing;
    }
    if (!existing.has(topic)) {
      throw new EventsConfigError(
        `the Kafka topic "${topic}" does not exist and createTopics is false: create it (with the partitions and replication you want), or set "createTopics": true`,
        { details: { topic } },
      );
    }
  }
}

const LEADER_POLL_MS = 100;

/**
 * Runs `step` until it resolves, again after a retriable kafkajs error (a topic not known or led yet, a
 * controller moving), until `deadline` (epoch ms); then, or on any other error, rejects with the last error.
 */
async function untilLed<T>(deadline: number, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (error) {
      const retriable = (error as { retriable?: boolean })?.retriable === true;
      if (!retriable || Date.now() + LEADER_POLL_MS > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
    }
  }
}
