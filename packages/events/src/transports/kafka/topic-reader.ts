/**
 * A reader that keeps a whole topic in memory, for the `kafka` transport's dead-letter topic and inbox
 * topics: a kafkajs consumer in a group of its own (kafkajs has no group-less reads), reading every
 * partition from the start and never committing, so each reader sees every record. `caughtUp()` waits
 * until it has read what the topic held when it was called, so a lookup sees every record written
 * before it (by any process).
 */
import type { Admin, Consumer, EachBatchPayload } from 'kafkajs';
import { withTimeout } from '../../internal/with-timeout.js';

/** What a reader needs from its transport. */
export interface TopicReaderHost {
  /** A new kafkajs consumer in group `groupId`. */
  newConsumer(groupId: string): Consumer;
  /** The admin client. */
  admin(): Admin;
  /** Reports a background error (throttled). */
  report(error: unknown): void;
}

/** Called for each record: its key and its value (`null` for a tombstone). */
export type RecordSink = (key: string, value: string | null) => void;

/** Tails one topic into a sink. */
export class TopicReader {
  private consumer: Consumer | undefined;
  private starting: Promise<void> | undefined;
  private readonly positions = new Map<number, number>();
  private waiters: (() => void)[] = [];

  constructor(
    private readonly host: TopicReaderHost,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly sink: RecordSink,
  ) {}

  /** Joins the reader's group and starts reading from the start of the topic. Shared by concurrent callers. */
  start(): Promise<void> {
    this.starting ??= this.run().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  /**
   * Resolves once every record the topic held when this was called has reached the sink. Rejects
   * after `timeout` ms.
   */
  async caughtUp(timeout: number): Promise<void> {
    await this.start();
    const wanted = await withTimeout(
      this.host.admin().fetchTopicOffsets(this.topic),
      timeout,
      `offsets of ${this.topic}`,
    );
    const behind = () =>
      wanted.some(
        ({ partition, high, low }) => (this.positions.get(partition) ?? Number(low)) < Number(high),
      );
    if (!behind()) return;
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (behind()) this.waiters.push(check);
          else resolve();
        };
        check();
      }),
      timeout,
      `reading ${this.topic}`,
    );
  }

  /** Leaves the group and deletes it. */
  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer === undefined) return;
    await consumer.disconnect().catch(() => undefined);
    await this.host
      .admin()
      .deleteGroups([this.groupId])
      .catch(() => undefined);
  }

  private async run(): Promise<void> {
    const consumer = this.host.newConsumer(this.groupId);
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => this.host.report(event.payload.error));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.read(payload) });
  }

  private async read({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      const key = message.key?.toString() ?? '';
      this.sink(key, message.value === null ? null : message.value.toString());
    }
    this.positions.set(batch.partition, Number(batch.lastOffset()) + 1);
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
