/**
 * The in-process broker of the `memory` transport: topics (one per event name), consumer groups with
 * a bounded FIFO each, the publishers waiting for room, and the dead letters.
 *
 * A publish is pushed straight into the FIFO of each group of its topic (in the order the groups were
 * created); each group hands its events to its members (replicas: several transports sharing one broker)
 * round-robin, up to each member's concurrency.
 */
import { decodeEnvelope, type EventEnvelope, encodeEnvelope } from '../../envelope.js';
import {
  EventsBusClosedError,
  type EventsError,
  EventsPublishTimeoutError,
  EventsQueueFullError,
} from '../../errors.js';
import { TimerSet } from '../../internal/timer-set.js';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  type DeadLetterStore,
  deadLetterId,
  deadLetterNotFound,
} from '../../transport/event-transport.js';
import type { MemoryBrokerSettings, OnFull } from './options.js';
import { PairQueue } from './pair-queue.js';

const INBOX_PRUNE_EVERY = 1024;
/** Most ids the memory inbox keeps per group; the oldest go first. */
export const MEMORY_INBOX_LIMIT = 100_000;

/** The error of a use after close. */
export function closedError(): EventsError {
  return new EventsBusClosedError(
    'the memory transport was closed; create a new bus to publish again',
  ) as EventsError;
}

/** An envelope, or its encoded text when the broker serializes. */
type Item = EventEnvelope | string;

interface Waiter {
  readonly items: readonly Item[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly deadline: number;
}

/** A subscription of one transport to a group: the group hands it events while it has room. */
export interface GroupMember {
  /** Deliveries handed to it and not settled. */
  readonly inFlight: number;
  /** Most deliveries it takes at once. */
  readonly concurrency: number;
  /** Hands it one event. */
  hand(envelope: EventEnvelope, attempt: number): void;
}

/** One event name: its groups and the publishers waiting for room. */
export class Topic {
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
        new EventsQueueFullError(
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
      this.broker.route(this, waiter.items);
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
        new EventsPublishTimeoutError(
          `publishing "${this.name}" waited ${this.broker.publishTimeout} ms for room in the queue of group ${this.fullGroups(waiter.items.length)} (maxQueue ${this.broker.maxQueue}); nothing was stored. Its handler is too slow or not subscribed`,
          { details: { event: this.name, maxQueue: this.broker.maxQueue, maybeStored: false } },
        ),
      );
    }
    this.arm();
  }
}

/** One consumer group of one event. */
export class MemoryGroup {
  readonly queue = new PairQueue();
  readonly members: GroupMember[] = [];
  inbox: Map<string, number> | undefined;
  private inboxWrites = 0;
  private readonly retries = new TimerSet();
  private next = 0;
  private scheduled = false;
  private dispatching = false;

  constructor(
    readonly topic: Topic,
    readonly name: string,
    readonly broker: MemoryBroker,
  ) {}

  /** Takes a newly published event (its first attempt). */
  receive(item: Item): void {
    this.queue.push(typeof item === 'string' ? decodeEnvelope(item) : item, 1);
    this.schedule();
  }

  push(envelope: EventEnvelope, attempt: number): void {
    this.queue.push(envelope, attempt);
    this.schedule();
  }

  later(envelope: EventEnvelope, attempt: number, delay: number): void {
    this.retries.after(delay, () => this.push(envelope, attempt));
  }

  get scheduledRetries(): number {
    return this.retries.size;
  }

  schedule(): void {
    if (this.scheduled || this.dispatching || this.members.length === 0 || this.queue.length === 0) return;
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
    this.retries.clear();
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    this.dispatching = true;
    try {
      while (this.queue.length > 0) {
        const member = this.pick();
        if (member === undefined) break;
        const envelope = this.queue.shift()!;
        member.hand(envelope, this.queue.attempt);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.topic.waiters.length > 0) this.topic.wake();
  };

  private pick(): GroupMember | undefined {
    const members = this.members;
    const n = members.length;
    for (let i = 0; i < n; i++) {
      const index = (this.next + i) % n;
      const member = members[index]!;
      if (member.inFlight < member.concurrency) {
        if (n > 1) this.next = index + 1;
        return member;
      }
    }
    return undefined;
  }
}

/**
 * The in-process broker: topics, groups and dead letters. Share one between several memory transports
 * (`createMemoryTransport({}, { broker })`) to make their buses behave like replicas on one broker.
 * Make one with `createMemoryBroker(options)`.
 */
export class MemoryBroker {
  /** See {@link MemoryTransportOptions.maxQueue}. */
  readonly maxQueue: number;
  /** See {@link MemoryTransportOptions.onFull}. */
  readonly onFull: OnFull;
  /** See {@link MemoryTransportOptions.publishTimeout}, in ms. */
  readonly publishTimeout: number;
  /** See {@link MemoryTransportOptions.serialize}. */
  readonly serialize: boolean;
  private readonly topics = new Map<string, Topic>();
  private readonly dead = new Map<string, DeadLetter & { readonly groupRef: MemoryGroup }>();
  private unrouted = 0;
  private unverified = 0;
  private closed = false;

  /** A broker with parsed settings; `createMemoryBroker(options)` parses them. */
  constructor(settings: MemoryBrokerSettings) {
    this.maxQueue = settings.maxQueue;
    this.onFull = settings.onFull;
    this.publishTimeout = settings.publishTimeout;
    this.serialize = settings.serialize;
  }

  /** The group `name` of `event`, created (and bound to the event) on first use. */
  group(event: string, name: string): MemoryGroup {
    const topic = this.topic(event);
    let group = topic.groups.find((g) => g.name === name);
    if (group === undefined) {
      group = new MemoryGroup(topic, name, this);
      topic.groups.push(group);
    }
    return group;
  }

  /** Stores one event for every group of its name; `undefined` when stored now, else a promise. */
  publishOne(envelope: EventEnvelope): Promise<void> | undefined {
    if (this.closed) return Promise.reject(closedError());
    const topic = this.topics.get(envelope.name);
    if (topic === undefined || topic.groups.length === 0) {
      this.unrouted++;
      return undefined;
    }
    let item: Item = envelope;
    if (this.serialize) {
      try {
        item = encodeEnvelope(envelope);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (topic.waiters.length === 0 && topic.hasRoom(1)) {
      const groups = topic.groups;
      for (let i = 0; i < groups.length; i++) groups[i]!.receive(item);
      return undefined;
    }
    return topic.waitForRoom([item]);
  }

  /** Stores events of one name for every group of it; `undefined` when stored now, else a promise. */
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
      this.route(topic, items);
      return undefined;
    }
    return topic.waitForRoom(items);
  }

  /** Pushes events into the FIFO of every group of their topic. */
  route(topic: Topic, items: readonly Item[]): void {
    for (const item of items) for (const group of topic.groups) group.receive(item);
  }

  /** Stores a dead letter (replacing an older one of the same group and event id). */
  addDeadLetter(
    group: MemoryGroup,
    envelope: EventEnvelope,
    reason: DeadLetterReason,
    attempts: number,
  ): void {
    // An envelope whose signature failed claims an id nobody vouches for: keep it apart from real ones.
    const eventId = reason.kind === 'signature' ? `unverified-${++this.unverified}` : envelope.id;
    const id = deadLetterId(group.name, envelope.name, eventId);
    this.dead.delete(id);
    this.dead.set(id, {
      id,
      group: group.name,
      event: envelope.name,
      eventId,
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
   * Events of group `group` of `event` not yet settled: queued, handed to a member and not settled,
   * or waiting for a retry; `undefined` for a group that does not exist.
   */
  pending(event: string, group: string): number | undefined {
    const found = this.topics.get(event)?.groups.find((g) => g.name === group);
    if (found === undefined) return undefined;
    let inFlight = 0;
    for (const member of found.members) inFlight += member.inFlight;
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
