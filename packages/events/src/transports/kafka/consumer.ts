/**
 * One subscription on Kafka: a kafkajs consumer in the Kafka group `<prefix>.<group>.<event>`, reading
 * the event's topic and the group's retry topic, never auto-committing.
 *
 * - **Batches are finished before the next fetch.** kafkajs hands a fetched batch per partition to
 *   `eachBatch`; the batch resolves only once each event it handed out is settled and its settlement
 *   written (inbox record, retry record, dead letter), and the committable position is committed. kafkajs
 *   rejoins the group only after every batch in progress returned, so on a rebalance the running
 *   handlers finish and commit before a partition is released; while waiting, the batch heartbeats, and a
 *   heartbeat that reports a rebalance stops handing out the rest of the batch (it is fetched again from
 *   the committed position by whoever owns the partition next).
 * - **Order per key.** Within a batch, events with the same record key (the event's key, else its id)
 *   run one after the other; different keys run concurrently, at most `concurrency` at once.
 * - **Retries do not block a partition.** A failed event is written to the group's retry topic with the
 *   attempts made and the time it is due, and its offset counts as done: the events behind it go on. On
 *   the retry topic, a record not yet due pauses its partition and seeks back to it until it is due
 *   (pause/resume); records behind it wait at most the longest backoff.
 * - **Commits** are the position below which every offset taken is done, per partition, committed as
 *   soon as it moves (one commit request in flight at a time). A batch is resolved (kafkajs fetches on
 *   after it) only once handled to its end; one left early is fetched again.
 * - **No handler runs twice at once.** A record fetched again while its first delivery is still open
 *   (kafkajs restarted its consumer after a broker failure, or the group rejoined) waits for that
 *   delivery and is done with it. Heartbeats that fail because the broker is away do not give up the
 *   partitions; only a rebalance does.
 */
import type { Consumer, EachBatchPayload, KafkaMessage, Message } from 'kafkajs';
import { TimerSet } from '../../internal/timer-set.js';
import {
  BrokerConsumer,
  BrokerDelivery,
  type DecodedEntry,
  decodeDelivered,
  type StoredSizeLimit,
} from '../../transport/broker/broker-consumer.js';
import type { DeadLetterReason, Delivery, SubscriptionSpec } from '../../transport/event-transport.js';
import { HEADERS, type KafkaNames } from './names.js';
import { OffsetTracker } from './offset-tracker.js';

/** A group's inbox on Kafka (see `KafkaInbox` in `inbox.ts`). */
export interface InboxView {
  /** Whether the group completed `key` (as far as this process has read). */
  has(key: string): boolean;
  /** Resolves once every id recorded before the call has been read. */
  caughtUp(timeout: number): Promise<void>;
  /** Records `key` as completed. */
  record(key: string): Promise<void>;
}

/** What a consumer needs from its transport. */
export interface KafkaConsumerHost {
  readonly names: KafkaNames;
  readonly counters: Record<string, number>;
  /** How often a waiting batch heartbeats, in ms. */
  readonly heartbeatInterval: number;
  /** Bound on a write (and on the inbox catching up), in ms. */
  readonly writeTimeout: number;
  /** Largest record the transport writes, in bytes. */
  readonly maxEventBytes: number;
  /** A new kafkajs consumer in group `groupId`. */
  newConsumer(groupId: string): Consumer;
  /** Writes records with `acks: -1`. */
  send(topic: string, messages: Message[]): Promise<void>;
  /** The group's inbox, keeping ids at least `leastRetention` ms. */
  inbox(group: string, leastRetention: number): Promise<InboxView>;
}

const WRITE_RETRY_MIN_MS = 100;
const WRITE_RETRY_MAX_MS = 2_000;

/** One delivery of a Kafka record. */
class KafkaDelivery extends BrokerDelivery<KafkaDelivery> {
  constructor(
    consumer: KafkaConsumer,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly recordKey: Buffer | null,
    readonly retried: boolean,
    text: string,
    decoded: DecodedEntry,
    attempt: number,
  ) {
    super(consumer, text, decoded, attempt);
  }

  get key(): string {
    return `${this.topic}:${this.partition}:${this.offset}`;
  }

  get brokerId(): string {
    return `kafka-${this.retried ? 'r' : ''}p${this.partition}-${this.offset}`;
  }
}

/** The deliveries of one batch: handed out lane by lane (one lane per record key), done when all are. */
class BatchRun {
  /** Every delivery of the batch, in offset order. */
  readonly all: KafkaDelivery[] = [];
  private readonly lanes = new Map<string, KafkaDelivery[]>();
  private readonly laneOf = new Map<KafkaDelivery, string>();
  private open = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly offer: (delivery: KafkaDelivery) => void,
    private readonly ordered: boolean,
  ) {}

  add(delivery: KafkaDelivery): void {
    this.open++;
    this.all.push(delivery);
    const lane = this.ordered ? (delivery.recordKey?.toString() ?? delivery.key) : delivery.key;
    this.laneOf.set(delivery, lane);
    const queue = this.lanes.get(lane);
    if (queue === undefined) this.lanes.set(lane, [delivery]);
    else queue.push(delivery);
  }

  /** Hands out the head of every lane. */
  start(): void {
    for (const queue of [...this.lanes.values()]) this.offer(queue[0]!);
  }

  /** A delivery is done (or dropped): take it off its lane and hand out the next one when asked. */
  finished(delivery: KafkaDelivery, handOutNext: boolean): void {
    const lane = this.laneOf.get(delivery);
    if (lane === undefined) return;
    this.laneOf.delete(delivery);
    this.open--;
    const queue = this.lanes.get(lane)!;
    const index = queue.indexOf(delivery);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.lanes.delete(lane);
    else if (index === 0 && handOutNext) this.offer(queue[0]!);
    this.poke();
  }

  /** True once {@link abandon} dropped a delivery: the batch must be fetched again. */
  abandoned = false;

  /**
   * Drops the deliveries not handed out yet (behind the head of their lane); their offsets stay
   * uncommitted. Returns them.
   */
  abandon(): KafkaDelivery[] {
    const all: KafkaDelivery[] = [];
    for (const queue of this.lanes.values()) {
      for (const dropped of queue.splice(1)) {
        this.abandoned = true;
        this.laneOf.delete(dropped);
        this.open--;
        all.push(dropped);
      }
    }
    return all;
  }

  /** Drops one delivery wherever it is in its lane (its offset stays uncommitted). */
  drop(delivery: KafkaDelivery): void {
    if (!this.laneOf.has(delivery)) return;
    this.abandoned = true;
    this.finished(delivery, false);
  }

  /** Deliveries added and neither done nor dropped. */
  get pending(): number {
    return this.open;
  }

  /** Wakes a waiting {@link until}. */
  poke(): void {
    this.wake?.();
  }

  /** Resolves at the next change, or after `ms`. */
  until(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** One subscription on Kafka. */
export class KafkaConsumer extends BrokerConsumer<KafkaDelivery> {
  private consumer: Consumer | undefined;
  private inbox: InboxView | undefined;
  private readonly topic: string;
  private readonly retryTopic: string;
  private readonly trackers = new Map<string, OffsetTracker>();
  private readonly runs = new Map<KafkaDelivery, BatchRun>();
  /** The delivery of each record (by topic, partition and offset) taken and not yet done or dropped. */
  private readonly open = new Map<string, KafkaDelivery>();
  /**
   * Copies of a record fetched again while its first delivery is still open (kafkajs restarted its
   * consumer, or the group rejoined while a handler ran): they never reach the bus, and are done when
   * the first one is (its ack, retry or dead letter is stored), so a handler never runs twice at once.
   */
  private readonly followers = new Map<string, KafkaDelivery[]>();
  private readonly active = new Set<BatchRun>();
  private readonly resumes = new TimerSet();
  private readonly writeRetries = new TimerSet();
  private revoking = false;
  private committing: Promise<void> | undefined;
  private commitAgain = false;

  constructor(
    private readonly host: KafkaConsumerHost,
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
    onClosed: (consumer: object) => void,
  ) {
    super(spec, deliver, onClosed);
    this.topic = host.names.events(spec.event);
    this.retryTopic = host.names.retry(spec.group, spec.event);
  }

  /** Joins the group and starts fetching; resolves once the consumer joined. */
  async start(): Promise<void> {
    if (this.spec.inbox) this.inbox = await this.host.inbox(this.spec.group, this.spec.inboxRetention);
    const consumer = this.host.newConsumer(this.host.names.groupId(this.spec.group, this.spec.event));
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => this.joined());
    consumer.on(consumer.events.CRASH, (event) => {
      this.host.counters.crashes!++;
      this.spec.onError(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic, this.retryTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(this.spec.concurrency, 64),
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dropUnstarted();
    try {
      this.consumer?.pause([{ topic: this.topic }, { topic: this.retryTopic }]);
    } catch {
      // Not running (it crashed and is restarting): nothing to pause.
    }
    this.wakeAll();
  }

  protected async shutdown(): Promise<void> {
    this.wakeAll();
    this.resumes.clear();
    await this.writes.settled(this.host.writeTimeout);
    this.writeRetries.clear();
    await this.commit().catch(() => undefined);
    await this.consumer?.disconnect().catch((error: unknown) => this.spec.onError(error));
  }

  protected writeAck(delivery: KafkaDelivery): void {
    const envelope = delivery.envelope;
    if (this.inbox !== undefined && envelope !== undefined && !delivery.duplicate) {
      const inbox = this.inbox;
      this.written(delivery, () => inbox.record(this.inboxKey(envelope.id)), 'inboxWriteFailures');
    } else this.finish(delivery);
  }

  protected writeRetry(delivery: KafkaDelivery, delayMs: number): void {
    const record: Message = {
      key: delivery.recordKey,
      value: delivery.text,
      headers: { [HEADERS.attempts]: String(delivery.attempt), [HEADERS.due]: String(Date.now() + delayMs) },
    };
    this.written(delivery, () => this.host.send(this.retryTopic, [record]), 'retryWriteFailures');
  }

  protected writeDeadLetter(delivery: KafkaDelivery, reason: DeadLetterReason): void {
    const eventId = delivery.eventId;
    const value = this.deadLetterRecord(eventId, delivery.text, reason, delivery.attempt);
    const record: Message = { key: this.deadLetterIdOf(eventId), value };
    this.written(delivery, () => this.host.send(this.host.names.deadLetters, [record]), 'deadLetterFailures');
  }

  protected override storedSizeLimit(): StoredSizeLimit {
    return { bytes: this.host.maxEventBytes, name: "the transport's maxEventBytes" };
  }

  protected slotFreed(): void {}

  /** The inbox key of an event id. */
  private inboxKey(id: string): string {
    return `${this.spec.event}/${id}`;
  }

  /**
   * Runs `write`, then marks the delivery done. A failed write is tried again (the brokers may be
   * restarting) until it lands or the consumer closes; the batch waits for it meanwhile, so its
   * offset is not committed before the write is stored.
   */
  private written(delivery: KafkaDelivery, write: () => Promise<void>, failures: string): void {
    let delay = WRITE_RETRY_MIN_MS;
    const attempt = () => {
      const task = write().then(
        () => this.finish(delivery),
        (error: unknown) => {
          this.host.counters[failures]!++;
          if (this.closed) return;
          if (delay === WRITE_RETRY_MIN_MS) this.spec.onError(error);
          this.writeRetries.after(delay, attempt);
          delay = Math.min(delay * 2, WRITE_RETRY_MAX_MS);
        },
      );
      this.writes.add(task);
    };
    attempt();
  }

  /** A settled delivery's write is stored: its offset is done. */
  private finish(delivery: KafkaDelivery): void {
    this.trackers.get(`${delivery.topic}:${delivery.partition}`)?.done(delivery.offset);
    const run = this.runs.get(delivery);
    this.runs.delete(delivery);
    run?.finished(delivery, !this.stopped && !this.revoking && !this.closed);
    if (this.open.get(delivery.key) === delivery) {
      this.open.delete(delivery.key);
      const copies = this.followers.get(delivery.key) ?? [];
      this.followers.delete(delivery.key);
      for (const copy of copies) this.finish(copy);
    }
    this.scheduleCommit();
  }

  /** A delivery dropped before the bus saw it: forget it, and drop the copies waiting on it. */
  private dropped(delivery: KafkaDelivery): void {
    this.runs.delete(delivery);
    if (this.open.get(delivery.key) !== delivery) return;
    this.open.delete(delivery.key);
    const copies = this.followers.get(delivery.key) ?? [];
    this.followers.delete(delivery.key);
    for (const copy of copies) {
      this.runs.get(copy)?.drop(copy);
      this.runs.delete(copy);
    }
  }

  /**
   * Forgets a batch none of whose deliveries was handed out: they stay uncommitted and their partitions'
   * positions start over, so kafkajs fetching the batch again takes them afresh.
   */
  private release(run: BatchRun): void {
    for (const delivery of run.all) {
      this.trackers.delete(`${delivery.topic}:${delivery.partition}`);
      if (this.open.get(delivery.key) === delivery) this.dropped(delivery);
      else {
        const copies = this.followers.get(delivery.key)?.filter((copy) => copy !== delivery) ?? [];
        if (copies.length > 0) this.followers.set(delivery.key, copies);
        else this.followers.delete(delivery.key);
        this.runs.delete(delivery);
      }
    }
  }

  /** Hands a delivery of a batch to the bus, unless it is a copy of one still open. */
  private handOut(delivery: KafkaDelivery): void {
    if (this.open.get(delivery.key) !== delivery) return;
    // A record published twice (a publish retried after a timeout) may sit behind its first copy in the
    // same lane: the first copy's inbox record is known here by the time the second is handed out.
    const envelope = delivery.envelope;
    if (this.inbox !== undefined && envelope !== undefined && !delivery.duplicate)
      delivery.duplicate = this.inbox.has(this.inboxKey(envelope.id));
    this.offer(delivery);
  }

  /** A new generation of the group: what this consumer knew about its partitions is void. */
  private joined(): void {
    this.revoking = false;
    this.trackers.clear();
    this.resumes.clear();
    try {
      this.consumer?.resume([{ topic: this.retryTopic }]);
    } catch {
      // Not running yet.
    }
  }

  private tracker(topic: string, partition: number): OffsetTracker {
    const id = `${topic}:${partition}`;
    let tracker = this.trackers.get(id);
    if (tracker === undefined) {
      tracker = new OffsetTracker();
      this.trackers.set(id, tracker);
    }
    return tracker;
  }

  /** kafkajs's `eachBatch`: hand out the batch's events, wait until every one is done, commit. */
  private async onBatch(payload: EachBatchPayload): Promise<void> {
    // Every batch of the generation that saw the rebalance has returned: kafkajs goes on (it rejoined,
    // or the error was not a rebalance after all), so the partitions it hands out now are ours.
    if (this.revoking && this.active.size === 0) {
      this.revoking = false;
      this.trackers.clear();
    }
    if (this.stopped || this.closed) return;
    if (this.revoking) {
      // Not resolved, so kafkajs fetches it again once the running batches returned and it rejoined.
      await sleep(Math.min(this.host.heartbeatInterval, 200));
      return;
    }
    const { batch } = payload;
    let seeked = false;
    const retried = batch.topic === this.retryTopic;
    const run = new BatchRun((delivery) => this.handOut(delivery), !retried);
    const tracker = this.tracker(batch.topic, batch.partition);
    const now = Date.now();
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < tracker.next) continue;
      if (retried) {
        const due = Number(header(message, HEADERS.due) ?? 0);
        if (due > now) {
          this.waitForDue(batch.topic, batch.partition, message.offset, due);
          seeked = true;
          break;
        }
      }
      const delivery = this.delivery(batch.topic, batch.partition, message, retried);
      tracker.take(offset);
      this.runs.set(delivery, run);
      const first = this.open.get(delivery.key);
      if (first === undefined) this.open.set(delivery.key, delivery);
      else this.followers.set(delivery.key, [...(this.followers.get(delivery.key) ?? []), delivery]);
      run.add(delivery);
    }
    // kafkajs fetches a partition from its resolved offset: resolve only a batch handled to its end, so
    // one left early (stop, rebalance) is fetched again instead of skipped.
    const resolve = () => {
      if (!seeked && !run.abandoned && !this.revoking && !this.stopped && !this.closed)
        payload.resolveOffset(batch.lastOffset());
    };
    if (run.pending === 0) {
      await this.commit();
      resolve();
      return;
    }
    if (this.inbox !== undefined) {
      try {
        await this.lookUpInbox(run, payload);
      } catch (error) {
        this.release(run);
        throw error;
      }
      if (this.stopped || this.closed) {
        this.release(run);
        return;
      }
    }
    this.active.add(run);
    try {
      run.start();
      await this.awaitBatch(run, payload);
      resolve();
    } finally {
      this.active.delete(run);
    }
  }

  /** Waits until the batch is done (or abandoned), heartbeating; then commits, and rethrows a rebalance. */
  private async awaitBatch(run: BatchRun, payload: EachBatchPayload): Promise<void> {
    let rebalance: unknown;
    while (run.pending > 0 && !this.closed) {
      if (this.stopped || this.revoking) {
        this.dropUnstarted();
        if (run.pending === 0) break;
      }
      await run.until(this.host.heartbeatInterval);
      if (rebalance !== undefined || this.closed || run.pending === 0) continue;
      try {
        await payload.heartbeat();
      } catch (error) {
        // A broker that is away fails heartbeats too: only a rebalance gives the partitions up.
        if (!isRebalance(error)) continue;
        rebalance = error;
        this.revoking = true;
        this.host.counters.rebalances!++;
      }
    }
    if (!this.closed) await this.commit().catch((error: unknown) => this.spec.onError(error));
    if (rebalance !== undefined) throw rebalance;
  }

  /** Marks the batch's duplicates: waits until the inbox has read every id recorded so far. */
  private async lookUpInbox(run: BatchRun, payload: EachBatchPayload): Promise<void> {
    const inbox = this.inbox!;
    for (;;) {
      try {
        await inbox.caughtUp(this.host.writeTimeout);
        break;
      } catch (error) {
        this.host.counters.inboxReadFailures!++;
        this.spec.onError(error);
        if (this.stopped || this.closed) return;
        try {
          await payload.heartbeat();
        } catch (beat) {
          if (!isRebalance(beat)) continue;
          this.revoking = true;
          this.host.counters.rebalances!++;
          throw beat;
        }
      }
    }
    for (const delivery of run.all) {
      if (delivery.envelope !== undefined)
        delivery.duplicate = inbox.has(this.inboxKey(delivery.envelope.id));
    }
  }

  /** A retry record not due yet: read its partition again from it once it is due. */
  private waitForDue(topic: string, partition: number, offset: string, due: number): void {
    const consumer = this.consumer!;
    consumer.pause([{ topic, partitions: [partition] }]);
    consumer.seek({ topic, partition, offset });
    this.resumes.after(Math.max(1, due - Date.now()), () => {
      if (!this.stopped) consumer.resume([{ topic, partitions: [partition] }]);
    });
  }

  private delivery(topic: string, partition: number, message: KafkaMessage, retried: boolean): KafkaDelivery {
    const text = message.value?.toString() ?? '';
    const decoded = decodeDelivered(text, `record ${message.offset} of ${topic}[${partition}]`);
    const before = retried ? Number(header(message, HEADERS.attempts) ?? 0) : 0;
    return new KafkaDelivery(
      this,
      topic,
      partition,
      Number(message.offset),
      message.key,
      retried,
      text,
      decoded,
      (Number.isFinite(before) ? before : 0) + 1,
    );
  }

  /** Wakes every waiting batch (stop, close). */
  private wakeAll(): void {
    for (const run of this.active) run.poke();
  }

  /** Drops every delivery not handed to the bus yet: lane tails and the backlog. */
  private dropUnstarted(): void {
    for (const run of this.active) for (const delivery of run.abandon()) this.dropped(delivery);
    const backlog = this.backlog;
    this.backlog = [];
    for (const delivery of backlog) {
      this.held.delete(delivery.key);
      this.runs.get(delivery)?.drop(delivery);
      this.dropped(delivery);
    }
  }

  private scheduleCommit(): void {
    if (this.committing !== undefined) {
      this.commitAgain = true;
      return;
    }
    this.commit().catch((error: unknown) => this.spec.onError(error));
  }

  /** Commits every partition whose position moved; one request at a time. */
  private commit(): Promise<void> {
    if (this.committing !== undefined) {
      this.commitAgain = true;
      return this.committing;
    }
    const consumer = this.consumer;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    const trackers: [OffsetTracker, number][] = [];
    for (const [id, tracker] of this.trackers) {
      if (!tracker.dirty) continue;
      const split = id.lastIndexOf(':');
      offsets.push({
        topic: id.slice(0, split),
        partition: Number(id.slice(split + 1)),
        offset: String(tracker.position),
      });
      trackers.push([tracker, tracker.position]);
    }
    if (consumer === undefined || offsets.length === 0) return Promise.resolve();
    this.committing = consumer
      .commitOffsets(offsets)
      .then(() => {
        for (const [tracker, position] of trackers) tracker.committed = Math.max(tracker.committed, position);
        this.host.counters.commits!++;
      })
      .finally(() => {
        this.committing = undefined;
        if (this.commitAgain) {
          this.commitAgain = false;
          this.scheduleCommit();
        }
      });
    return this.committing;
  }
}

function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/** Whether a heartbeat error means the group is rebalancing (kafkajs rejoins on these). */
function isRebalance(error: unknown): boolean {
  const type = (error as { type?: string })?.type;
  return (
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'NOT_COORDINATOR_FOR_GROUP' ||
    type === 'ILLEGAL_GENERATION' ||
    type === 'UNKNOWN_MEMBER_ID' ||
    type === 'FENCED_INSTANCE_ID'
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
