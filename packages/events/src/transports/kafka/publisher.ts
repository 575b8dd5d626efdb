/**
 * The `kafka` transport's producer side: an idempotent kafkajs producer with `acks: -1` (all in-sync
 * replicas), fed in batches. kafkajs serialises an idempotent producer's requests per broker anyway, so
 * one produce request is in flight at a time and every record that arrives meanwhile goes into the next
 * one: concurrent publishes share round trips.
 *
 * Every send is bounded by `publishTimeout`. A send still waiting in the queue when its time is up was
 * never handed to kafkajs (`EVENTS_BROKER_UNAVAILABLE`, nothing stored); one inside a request that has
 * not been acknowledged may still be stored (`EVENTS_PUBLISH_TIMEOUT`). While a request has been stuck
 * longer than `publishTimeout`, new sends are refused at once. kafkajs retries a request with the same
 * producer id and sequence numbers, so a retry the broker already stored is dropped by the broker; a
 * request kafkajs gives up on retires its producer (a new one gets a new producer id), so a later
 * request can never be mistaken for it.
 */
import type { Message, Producer } from 'kafkajs';
import type { EventsError } from '../../errors.js';
import type { BrokerErrors } from '../../transport/broker/broker-errors.js';

/** One send: records of one topic that resolve together. */
interface Job {
  readonly topic: string;
  readonly messages: Message[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: EventsError) => void;
  timer: NodeJS.Timeout | undefined;
  state: 'queued' | 'sent' | 'settled';
}

/** What the publisher needs from its transport. */
export interface PublisherHost {
  /** Opens a new idempotent producer. */
  openProducer(): Promise<Producer>;
  /** The transport's coded errors. */
  readonly errors: BrokerErrors;
  /** Reports a background error (throttled). */
  report(error: unknown): void;
}

/** Most bytes of record values in one produce request (the broker refuses a batch over `message.max.bytes`). */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Sends records in batches through one idempotent producer at a time. */
export class KafkaPublisher {
  private readonly queue: Job[] = [];
  private producer: Promise<Producer> | undefined;
  private inFlightSince = 0;
  /** A publish inside the request in flight timed out: the request is stuck until it settles. */
  private timedOut = false;
  private flushing = false;
  private closed = false;

  constructor(
    private readonly host: PublisherHost,
    private readonly publishTimeout: number,
    private readonly maxBatch: number,
  ) {}

  /** True while a produce request has waited longer than the publish timeout (the broker is away). */
  get stuck(): boolean {
    if (this.inFlightSince === 0) return false;
    return this.timedOut || Date.now() - this.inFlightSince > this.publishTimeout;
  }

  /** Sends `messages` to `topic` with `acks: -1`; resolves once the broker stored them all. */
  send(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) return Promise.reject(this.host.errors.notOpen(true));
    if (this.stuck) {
      return Promise.reject(
        this.host.errors.unavailable(
          `Kafka has not acknowledged the events sent ${Date.now() - this.inFlightSince} ms ago (the brokers are unreachable or slow)`,
          false,
        ),
      );
    }
    let bytes = 0;
    for (const message of messages) bytes += byteLength(message.value) + byteLength(message.key);
    return new Promise<void>((resolve, reject) => {
      const job: Job = { topic, messages, bytes, resolve, reject, timer: undefined, state: 'queued' };
      job.timer = setTimeout(() => this.expire(job), this.publishTimeout);
      this.queue.push(job);
      this.flush();
    });
  }

  /** Waits up to `timeout` ms for the request in flight, then disconnects the producer. */
  async close(timeout: number): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, this.host.errors.notOpen(true));
    const started = Date.now();
    while (this.flushing && Date.now() - started < timeout) await new Promise((r) => setTimeout(r, 20));
    const producer = this.producer;
    this.producer = undefined;
    const open = await producer?.catch(() => undefined);
    await open?.disconnect().catch(() => undefined);
  }

  private expire(job: Job): void {
    if (job.state === 'settled') return;
    if (job.state === 'queued') {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
      this.settle(
        job,
        this.host.errors.unavailable(
          `Kafka did not take the event within ${this.publishTimeout} ms (the brokers are unreachable or slow)`,
          false,
        ),
      );
    } else {
      this.timedOut = true;
      this.settle(job, this.host.errors.timedOut(undefined));
    }
  }

  private settle(job: Job, error?: EventsError): void {
    if (job.state === 'settled') return;
    job.state = 'settled';
    clearTimeout(job.timer);
    if (error === undefined) job.resolve();
    else job.reject(error);
  }

  private flush(): void {
    if (this.flushing || this.queue.length === 0 || this.closed) return;
    this.flushing = true;
    void this.sendNext().finally(() => {
      this.flushing = false;
      this.inFlightSince = 0;
      this.timedOut = false;
      this.flush();
    });
  }

  /** Takes the next batch from the queue (at least one job) and sends it. */
  private async sendNext(): Promise<void> {
    const batch: Job[] = [];
    let count = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (
        batch.length > 0 &&
        (count + next.messages.length > this.maxBatch || bytes + next.bytes > MAX_REQUEST_BYTES)
      )
        break;
      batch.push(this.queue.shift()!);
      count += next.messages.length;
      bytes += next.bytes;
    }
    for (const job of batch) job.state = 'sent';
    this.inFlightSince = Date.now();
    try {
      const producer = await this.openOnce();
      await producer.sendBatch({ acks: -1, topicMessages: byTopic(batch) });
      for (const job of batch) this.settle(job);
    } catch (error) {
      this.retire();
      const failure = this.host.errors.publish(error);
      for (const job of batch) this.settle(job, failure);
    }
  }

  private openOnce(): Promise<Producer> {
    this.producer ??= this.host.openProducer().catch((error: unknown) => {
      this.producer = undefined;
      throw error;
    });
    return this.producer;
  }

  /** Drops the producer kafkajs gave up on; the next batch opens a new one (a new producer id). */
  private retire(): void {
    const old = this.producer;
    this.producer = undefined;
    void old?.then((producer) => producer.disconnect()).catch((error: unknown) => this.host.report(error));
  }
}

function byTopic(batch: readonly Job[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const job of batch) {
    const list = topics.get(job.topic);
    if (list === undefined) topics.set(job.topic, [...job.messages]);
    else list.push(...job.messages);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

function byteLength(value: Message['value'] | Message['key']): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
