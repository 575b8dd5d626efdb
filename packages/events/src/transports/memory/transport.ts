/**
 * The `memory` transport: events stay in this process, with the same delivery rules as the brokers —
 * consumer groups, retries after a backoff, dead letters, the inbox — and a bounded queue per group.
 * Each transport is one process's view of a {@link MemoryBroker}; nothing survives the process.
 */
import type { HealthCheckResult } from '@blueprint/core';
import type { EventEnvelope } from '../../envelope.js';
import type {
  DeadLetterReason,
  DeadLetterStore,
  Delivery,
  EventTransport,
  GroupBinding,
  SubscriptionSpec,
  TransportSubscription,
} from '../../transport/event-transport.js';
import { closedError, type GroupMember, type MemoryBroker, type MemoryGroup } from './broker.js';

/** One event handed to one consumer. */
class MemoryDelivery implements Delivery {
  readonly malformed = undefined;
  settled = false;
  tracked = false;

  constructor(
    private readonly consumer: MemoryConsumer,
    readonly envelope: EventEnvelope,
    readonly attempt: number,
    readonly duplicate: boolean,
  ) {}

  ack(): void {
    if (this.settled) return;
    if (this.consumer.inbox) this.consumer.group.remember(this.envelope.id, this.consumer.inboxRetention);
    this.consumer.settle(this);
  }

  retry(delayMs: number): void {
    if (this.settled) return;
    this.consumer.group.later(this.envelope, this.attempt + 1, Math.max(1, delayMs));
    this.consumer.settle(this);
  }

  deadLetter(reason: DeadLetterReason): void {
    if (this.settled) return;
    this.consumer.group.broker.addDeadLetter(this.consumer.group, this.envelope, reason, this.attempt);
    this.consumer.settle(this);
  }
}

/** One subscription of one bus to one group. */
class MemoryConsumer implements TransportSubscription, GroupMember {
  inFlight = 0;
  readonly concurrency: number;
  readonly inbox: boolean;
  readonly inboxRetention: number;
  private readonly unsettled = new Set<MemoryDelivery>();
  private closed = false;

  constructor(
    readonly group: MemoryGroup,
    spec: SubscriptionSpec,
    private readonly deliver: (delivery: Delivery) => void,
    private readonly owner: MemoryTransport,
  ) {
    this.concurrency = spec.concurrency;
    this.inbox = spec.inbox;
    this.inboxRetention = spec.inboxRetention;
  }

  hand(envelope: EventEnvelope, attempt: number): void {
    const duplicate = this.inbox && this.group.inbox?.has(envelope.id) === true;
    const delivery = new MemoryDelivery(this, envelope, attempt, duplicate);
    this.inFlight++;
    this.deliver(delivery);
    if (!delivery.settled) {
      delivery.tracked = true;
      this.unsettled.add(delivery);
    }
  }

  settle(delivery: MemoryDelivery): void {
    delivery.settled = true;
    this.inFlight--;
    if (delivery.tracked) this.unsettled.delete(delivery);
    if (this.group.queue.length > 0) this.group.schedule();
  }

  async stop(): Promise<void> {
    const index = this.group.members.indexOf(this);
    if (index >= 0) this.group.members.splice(index, 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
    for (const delivery of this.unsettled) {
      delivery.settled = true;
      this.group.push(delivery.envelope, delivery.attempt + 1);
    }
    this.inFlight = 0;
    this.unsettled.clear();
    this.owner.forget(this);
  }
}

/** One process's transport on a memory broker. */
export class MemoryTransport implements EventTransport {
  readonly type = 'memory';
  readonly crossesProcesses = false;
  readonly deadLetters: DeadLetterStore;
  private readonly consumers = new Set<MemoryConsumer>();
  private closed = false;

  /** `ownsBroker`: the broker is this transport's own and closes with it. */
  constructor(
    private readonly broker: MemoryBroker,
    private readonly ownsBroker: boolean,
  ) {
    this.deadLetters = broker.deadLetters;
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    if (this.closed) throw closedError();
    for (const binding of bindings) this.broker.group(binding.event, binding.group);
  }

  publish(envelope: EventEnvelope): Promise<void> | undefined {
    if (this.closed) return Promise.reject(closedError());
    return this.broker.publishOne(envelope);
  }

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    if (this.closed) throw closedError();
    if (envelopes.length > 0) await this.broker.publish(envelopes);
  }

  async subscribe(
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
  ): Promise<TransportSubscription> {
    if (this.closed) throw closedError();
    const group = this.broker.group(spec.event, spec.group);
    const consumer = new MemoryConsumer(group, spec, deliver, this);
    this.consumers.add(consumer);
    group.members.push(consumer);
    group.schedule();
    return consumer;
  }

  async health(): Promise<HealthCheckResult> {
    const { queued, waitingPublishers } = this.broker.stats();
    return { ok: !this.closed, details: { queued, waitingPublishers } };
  }

  stats(): Record<string, number> {
    return this.broker.stats();
  }

  async pending(binding: GroupBinding): Promise<number | undefined> {
    return this.broker.pending(binding.event, binding.group);
  }

  /** Forgets a closed subscription. */
  forget(consumer: MemoryConsumer): void {
    this.consumers.delete(consumer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    if (this.ownsBroker) this.broker.close();
  }
}
