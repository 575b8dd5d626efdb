/**
 * A group's inbox on Kafka: the ids it completed, as records of the topic `<prefix>.inbox.<group>`
 * (key `<event>/<id>`, kept `inboxRetention` by the topic's `retention.ms`). Every process that
 * subscribes the group with `inbox: true` reads the whole topic into memory and keeps reading it, so a
 * redelivery on another replica (after a rebalance or a crash) finds the id. Memory: one string per
 * completed event of the retention window.
 */
import type { Message } from 'kafkajs';
import type { InboxView } from './consumer.js';
import { TopicReader, type TopicReaderHost } from './topic-reader.js';

/** What an inbox needs from its transport. */
export interface KafkaInboxHost extends TopicReaderHost {
  /** Writes records with `acks: -1`. */
  send(topic: string, messages: Message[]): Promise<void>;
}

/** The completed ids of one group. */
export class KafkaInbox implements InboxView {
  private readonly ids = new Map<string, number>();
  private readonly reader: TopicReader;

  constructor(
    private readonly host: KafkaInboxHost,
    private readonly topic: string,
    groupId: string,
    private readonly retention: number,
  ) {
    this.reader = new TopicReader(host, topic, groupId, (key, value) => {
      if (value === null) this.ids.delete(key);
      else this.ids.set(key, Number(value) || Date.now());
    });
  }

  /** Starts reading the topic. */
  start(): Promise<void> {
    return this.reader.start();
  }

  has(key: string): boolean {
    const at = this.ids.get(key);
    if (at === undefined) return false;
    if (Date.now() - at <= this.retention) return true;
    this.ids.delete(key);
    return false;
  }

  caughtUp(timeout: number): Promise<void> {
    return this.reader.caughtUp(timeout);
  }

  async record(key: string): Promise<void> {
    const now = Date.now();
    await this.host.send(this.topic, [{ key, value: String(now) }]);
    this.ids.set(key, now);
  }

  /** Stops reading. */
  close(): Promise<void> {
    return this.reader.close();
  }
}
