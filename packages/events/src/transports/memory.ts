/**
 * The `memory` transport: events stay in this process, with the same delivery rules as the brokers —
 * consumer groups, retries after a backoff, dead letters, the inbox — and a bounded queue per group.
 *
 * Fan-out to groups goes through eventemitter3; each group keeps a FIFO of pending events and hands them
 * to its consumers (replicas: several buses sharing one {@link MemoryBroker}) round-robin, up to each
 * consumer's concurrency. Nothing survives the process: use a broker transport for durability.
 */
import type { HealthCheckResult } from '@blueprint/core';
import { EventEmitter } from 'eventemitter3';
import { decodeEnvelope, type EventEnvelope, encodeEnvelope } from '../envelope.js';
import { EventsError } from '../errors.js';
import { durationOption, wholeNumberOption } from '../option-values.js';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  type DeadLetterStore,
  type Delivery,
  deadLetterId,
  deadLetterNotFound,
  type EventTransport,
  type GroupBinding,
  type SubscriptionSpec,
  type TransportSubscription,
} from '../transport.js';
import { PairQueue } from './pair-queue.js';

/** What `publish` does when a group's queue is full. */
export type OnFull = 'wait' | 'fail';

/** Options of {@link createMemoryBroker}. */
export interface MemoryBrokerOptions {
  /**
   * Most events waiting per group (events being handled do not count). When a slow handler lets its
   * queue fill up, `publish` waits for room or fails (see `onFull`) instead of growing memory. Default: 10,000.
   */
  readonly maxQueue?: number;
  /** `"wait"`: publish waits for room (up to `publishTimeout`); `"fail"`: it rejects with `EVENTS_QUEUE_FULL`. Default: `"wait"`. */
  readonly onFull?: OnFull;
  /** How long a publish waits for room before rejecting with `EVENTS_PUBLISH_TIMEOUT`. Default: `"10s"`. */
  readonly publishTimeout?: number | string;
  /**
   * Encode each event once and give every group its own decoded copy, as a broker would: catches
   * handlers that mutate a shared payload or rely on values the codec cannot carry. Default: false
   * (groups share the payload object parsed at publish).
   */
  readonly serialize?: boolean;
}

/** Options of {@link createMemoryTransport}. */
export interface MemoryTransportOptions extends MemoryBrokerOptions {
  /**
   * A broker shared with other transports: buses on one broker behave like processes on one broker
   * (replicas of a group share its events). Default: a private broker, closed with the transport.
   * When given, the broker's own options apply.
   */
  readonly broker?: MemoryBroker;
}

const DEFAULT_MAX_QUEUE = 10_000;
const DEFAULT_PUBLISH_TIMEOUT = 10_000;
const INBOX_PRUNE_EVERY = 1024;
/** Most ids the memory inbox keeps per group; the oldest go first. */
export const MEMORY_INBOX_LIMIT = 100_000;

function closedError(): EventsError {
  return new EventsError(
    'EVENTS_BUS_CLOSED',
    'the memory transport was closed; create a new bus to publish again',
  );
}

/** An envelope, or its encoded text when the broker serializes. */
type Item = EventEnvelope | string;

interface Waiter {
  readonly items: readonly Item[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly deadline: number;
}

/** One event name: its groups and the publishers waiting for room. */
class Topic {
  readonly groups: MemoryGroup[] = [];
  readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly broker: MemoryBroker,
  ) {}

  hasRoom(count: number): boolean {
    const max = this.broker.maxQueue;
    for (const group of this.groups) if (group.queue.length + count > max) return false;
    return true;
  }

  fullGroups(count: number): string {
    return this.groups
      .filter((g) => g.queue.length + count > this.broker.maxQueue)
      .map((g) => `"${g.name}"`)
      .join(', ');
  }

  waitForRoom(items: readonly Item[]): Promise<void> {
    const broker = this.broker;
    if (broker.onFull === 'fail' || items.length > broker.maxQueue) {
      const why =
        items.length > broker.maxQueue
          ? `a batch of ${items.length} events exceeds maxQueue ${broker.maxQueue}`
          : `the queue of group ${this.fullGroups(items.length)} holds maxQueue ${broker.maxQueue} events`;
      return Promise.reject(
        new EventsError(
          'EVENTS_QUEUE_FULL',
          `cannot publish "${this.name}": ${why}; nothing was stored. Slow handlers fall behind: raise their concurrency, raise maxQueue, or set onFull "wait"`,
          { details: { event: this.name, maxQueue: broker.maxQueue } },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ items, resolve, reject, deadline: Date.now() + broker.publishTimeout });
      if (this.timer === undefined) this.arm();
    });
  }

  /** Admits waiting publishers, oldest first, while every group has room. */
  wake(): void {
    while (this.waiters.length > 0 && this.hasRoom(this.waiters[0]!.items.length)) {
      const waiter = this.waiters.shift()!;
      this.broker.route(this.name, waiter.items);
      waiter.resolve();
    }
    if (this.waiters.length === 0) this.disarm();
  }

  rejectAll(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.disarm();
  }

  private arm(): void {
    const head = this.waiters[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, head.deadline - Date.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.waiters.length > 0 && this.waiters[0]!.deadline <= now) {
      const waiter = this.waiters.shift()!;
      waiter.reject(
        new EventsError(
          'EVENTS_PUBLISH_TIMEOUT',
          `publishing "${this.name}" waited ${this.broker.publishTimeout} ms for room in the queue of group ${this.fullGroups(waiter.items.length)} (maxQueue ${this.broker.maxQueue}); nothing was stored. Its handler is too slow or not subscribed`,
          { details: { event: this.name, maxQueue: this.broker.maxQueue, maybeStored: false } },
        ),
      );
    }
    this.arm();
  }
}

/** One consumer group of one event. */
class MemoryGroup {
  readonly queue = new PairQueue();
  readonly consumers: MemoryConsumer[] = [];
  inbox: Map<string, number> | undefined;
  private inboxWrites = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private next = 0;
  private scheduled = false;
  private dispatching = false;

  constructor(
    readonly topic: Topic,
    readonly name: string,
    readonly broker: MemoryBroker,
  ) {}

  /** Listener of the topic's emitter. */
  readonly receive = (item: Item): void => {
    this.queue.push(typeof item === 'string' ? decodeEnvelope(item) : item, 1);
    this.schedule();
  };

  push(envelope: EventEnvelope, attempt: number): void {
    this.queue.push(envelope, attempt);
    this.schedule();
  }

  later(envelope: EventEnvelope, attempt: number, delay: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.push(envelope, attempt);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  get scheduledRetries(): number {
    return this.timers.size;
  }

  schedule(): void {
    if (this.scheduled || this.dispatching || this.consumers.length === 0 || this.queue.length === 0) return;
    this.scheduled = true;
    queueMicrotask(this.dispatch);
  }

  remember(id: string, retention: number): void {
    if (this.inbox === undefined) this.inbox = new Map();
    const inbox = this.inbox;
    const now = Date.now();
    inbox.set(id, now);
    if (++this.inboxWrites % INBOX_PRUNE_EVERY !== 0) return;
    for (const [old, at] of inbox) {
      if (now - at < retention && inbox.size <= MEMORY_INBOX_LIMIT) break;
      inbox.delete(old);
    }
  }

  clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    this.dispatching = true;
    try {
      while (this.queue.length > 0) {
        const consumer = this.pick();
        if (consumer === undefined) break;
        const envelope = this.queue.shift()!;
        consumer.hand(envelope, this.queue.attempt);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.topic.waiters.length > 0) this.topic.wake();
  };

  private pick(): MemoryConsumer | undefined {
    const consumers = this.consumers;
    const n = consumers.length;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      const consumer = consumers[index]!;
      if (consumer.inFlight < consumer.concurrency) {
        if (n > 1) this.next = index + 1;
        return consumer;
      }
    }
    return undefined;
  }
}

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
class MemoryConsumer implements TransportSubscription {
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
    const index = this.group.consumers.indexOf(this);
    if (index >= 0) this.group.consumers.splice(index, 1);
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

/**
 * The in-process broker: topics, groups and dead letters. Share one between several memory transports
 * to make their buses behave like replicas on one broker.
 */
export class MemoryBroker {
  /** See {@link MemoryBrokerOptions.maxQueue}. */
  readonly maxQueue: number;
  /** See {@link MemoryBrokerOptions.onFull}. */
  readonly onFull: OnFull;
  /** See {@link MemoryBrokerOptions.publishTimeout}, in ms. */
  readonly publishTimeout: number;
  /** See {@link MemoryBrokerOptions.serialize}. */
  readonly serialize: boolean;
  private readonly emitter = new EventEmitter();
  private readonly topics = new Map<string, Topic>();
  private readonly dead = new Map<string, DeadLetter & { readonly groupRef: MemoryGroup }>();
  private unrouted = 0;
  private closed = false;

  constructor(options: MemoryBrokerOptions = {}) {
    const maxQueue = wholeNumberOption(options.maxQueue, DEFAULT_MAX_QUEUE, 'maxQueue');
    const onFull = options.onFull ?? 'wait';
    if (onFull !== 'wait' && onFull !== 'fail') {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid onFull ${JSON.stringify(onFull)}: use "wait" or "fail"`,
      );
    }
    const timeout = durationOption(options.publishTimeout, DEFAULT_PUBLISH_TIMEOUT, 'publishTimeout');
    this.maxQueue = maxQueue;
    this.onFull = onFull;
    this.publishTimeout = timeout;
    this.serialize = options.serialize ?? false;
  }

  /** The group `name` of `event`, created (and bound to the event) on first use. */
  group(event: string, name: string): MemoryGroup {
    const topic = this.topic(event);
    let group = topic.groups.find((g) => g.name === name);
    if (group === undefined) {
      group = new MemoryGroup(topic, name, this);
      topic.groups.push(group);
      this.emitter.on(event, group.receive);
    }
    return group;
  }

  /** Stores one event for every group of its name; `undefined` when stored now, else a promise. */
  publish(envelopes: readonly EventEnvelope[]): Promise<void> | undefined {
    if (this.closed) return Promise.reject(closedError());
    const topic = this.topics.get(envelopes[0]!.name);
    if (topic === undefined || topic.groups.length === 0) {
      this.unrouted += envelopes.length;
      return undefined;
    }
    let items: readonly Item[] = envelopes;
    if (this.serialize) {
      try {
        items = envelopes.map(encodeEnvelope);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (topic.waiters.length === 0 && topic.hasRoom(items.length)) {
      if (items.length === 1) this.emitter.emit(topic.name, items[0]);
      else this.route(topic.name, items);
      return undefined;
    }
    return topic.waitForRoom(items);
  }

  /** Emits envelopes to the groups of their name. */
  route(event: string, items: readonly Item[]): void {
    for (const item of items) this.emitter.emit(event, item);
  }

  /** Stores a dead letter (replacing an older one of the same group and event id). */
  addDeadLetter(
    group: MemoryGroup,
    envelope: EventEnvelope,
    reason: DeadLetterReason,
    attempts: number,
  ): void {
    const id = deadLetterId(group.name, envelope.name, envelope.id);
    this.dead.delete(id);
    this.dead.set(id, {
      id,
      group: group.name,
      event: envelope.name,
      eventId: envelope.id,
      envelope,
      reason,
      attempts,
      deadAt: new Date(),
      groupRef: group,
    });
  }

  /** The dead-letter store. */
  readonly deadLetters: DeadLetterStore = {
    list: async (filter: DeadLetterFilter = {}) => {
      const out: DeadLetter[] = [];
      const limit = filter.limit ?? 1000;
      for (const { groupRef: _, ...letter } of this.dead.values()) {
        if (out.length >= limit) break;
        if (filter.group !== undefined && letter.group !== filter.group) continue;
        if (filter.event !== undefined && letter.event !== filter.event) continue;
        out.push(letter);
      }
      return out;
    },
    get: async (id: string) => {
      const found = this.dead.get(id);
      if (found === undefined) return undefined;
      const { groupRef: _, ...letter } = found;
      return letter;
    },
    replay: async (id: string) => {
      const found = this.takeDeadLetter(id);
      found.groupRef.push(found.envelope!, 1);
    },
    discard: async (id: string) => {
      this.takeDeadLetter(id);
    },
  };

  /** Counters: events queued, retries waiting, dead letters, events published to no group. */
  stats(): Record<string, number> {
    let queued = 0;
    let retries = 0;
    let waitingPublishers = 0;
    for (const topic of this.topics.values()) {
      waitingPublishers += topic.waiters.length;
      for (const group of topic.groups) {
        queued += group.queue.length;
        retries += group.scheduledRetries;
      }
    }
    return { queued, retries, waitingPublishers, deadLetters: this.dead.size, unrouted: this.unrouted };
  }

  /**
   * Events of group `group` of `event` not yet settled: queued, handed to a consumer and not settled,
   * or waiting for a retry; `undefined` for a group that does not exist.
   */
  pending(event: string, group: string): number | undefined {
    const found = this.topics.get(event)?.groups.find((g) => g.name === group);
    if (found === undefined) return undefined;
    let inFlight = 0;
    for (const consumer of found.consumers) inFlight += consumer.inFlight;
    return found.queue.length + found.scheduledRetries + inFlight;
  }

  /** Drops every queued event and timer; waiting publishers reject with `EVENTS_BUS_CLOSED`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const topic of this.topics.values()) {
      topic.rejectAll(closedError());
      for (const group of topic.groups) group.clearTimers();
    }
    this.emitter.removeAllListeners();
  }

  private topic(event: string): Topic {
    let topic = this.topics.get(event);
    if (topic === undefined) {
      topic = new Topic(event, this);
      this.topics.set(event, topic);
    }
    return topic;
  }

  private takeDeadLetter(id: string): DeadLetter & { readonly groupRef: MemoryGroup } {
    const found = this.dead.get(id);
    if (found === undefined) throw deadLetterNotFound(id);
    this.dead.delete(id);
    return found;
  }
}

class MemoryTransport implements EventTransport {
  readonly kind = 'memory';
  readonly deadLetters: DeadLetterStore;
  private readonly consumers = new Set<MemoryConsumer>();
  private closed = false;

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
    return this.broker.publish([envelope]);
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
    group.consumers.push(consumer);
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

/**
 * Creates an in-process broker to share between memory transports.
 *
 * @example
 * const broker = createMemoryBroker({ maxQueue: 1000 });
 * const replicaA = createEventBus({ transport: createMemoryTransport({ broker }) });
 * const replicaB = createEventBus({ transport: createMemoryTransport({ broker }) });
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  return new MemoryBroker(options);
}

/**
 * Creates the `memory` transport.
 *
 * @example
 * const bus = createEventBus({ transport: createMemoryTransport({ maxQueue: 1000, onFull: 'fail' }) });
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): EventTransport {
  const { broker, ...brokerOptions } = options;
  if (broker !== undefined) {
    if (Object.values(brokerOptions).some((v) => v !== undefined)) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        'createMemoryTransport: give either a shared broker or broker options, not both; set options on createMemoryBroker',
      );
    }
    return new MemoryTransport(broker, false);
  }
  return new MemoryTransport(new MemoryBroker(brokerOptions), true);
}
