/**
 * One subscription on Redis Streams: a dedicated blocking connection reads the event's stream and the
 * group's retry stream (`XREADGROUP`, never more entries than free handler slots), re-reading its own
 * pending entries first after every reconnect; a claim loop takes over entries other replicas left
 * idle and keeps running handlers' leases fresh; retries wait in a delayed set that a mover puts back
 * on the retry stream when due; dead letters go to the event's dead-letter hash.
 */
import type { Redis } from 'ioredis';
import {
  BrokerConsumer,
  BrokerDelivery,
  type DecodedEntry,
  decodeDelivered,
} from '../../transport/broker/broker-consumer.js';
import type { DeadLetterReason, Delivery, SubscriptionSpec } from '../../transport/event-transport.js';
import { AckBatch, type Source } from './acks.js';
import type { RedisConsumerHost } from './host.js';
import { housekeeping, RetryMover } from './maintenance.js';
import { type Fields, field, type RawEntry } from './replies.js';
import { deadLetterScript, retryScript } from './scripts.js';

interface Fetched {
  readonly source: Source;
  readonly id: string;
  readonly fields: Fields;
  readonly deliveries: number;
}

const RELEASE_WAIT_MS = 50;

function isBusyGroup(error: unknown): boolean {
  return String((error as Error)?.message).startsWith('BUSYGROUP');
}

/** One delivery of a stream entry. */
class RedisDelivery extends BrokerDelivery<RedisDelivery> {
  constructor(
    consumer: RedisConsumer,
    readonly source: Source,
    readonly entryId: string,
    text: string,
    decoded: DecodedEntry,
    attempt: number,
  ) {
    super(consumer, text, decoded, attempt);
  }

  get key(): string {
    return `${this.source}${this.entryId}`;
  }

  get brokerId(): string {
    return this.entryId;
  }
}

/** One subscription on Redis Streams. */
export class RedisConsumer extends BrokerConsumer<RedisDelivery> {
  private blocking: Redis | undefined;
  private clientId: number | undefined;
  private readonly streamKeys: readonly [string, string];
  private readonly delayedKey: string;
  private readonly inboxKey: string;
  private readonly deadKey: string;
  private readonly acks: AckBatch;
  private needPending = true;
  private pendingCursor: [string, string] = ['0', '0'];
  private claimCursor: [string, string] = ['0-0', '0-0'];
  private reading = false;
  private readStartedAt = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private slotWaiter: (() => void) | undefined;
  private readyWaiter: (() => void) | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private readonly mover: RetryMover;
  private nextHousekeeping = 0;

  constructor(
    private readonly host: RedisConsumerHost,
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
    onClosed: (consumer: RedisConsumer) => void,
  ) {
    super(spec, deliver, onClosed as (consumer: object) => void);
    const { keys } = host;
    this.streamKeys = [keys.stream(spec.event), keys.retry(spec.event, spec.group)];
    this.delayedKey = keys.delayed(spec.event, spec.group);
    this.inboxKey = keys.inbox(spec.event, spec.group);
    this.deadKey = keys.dead(spec.event);
    this.mover = new RetryMover({
      run: (script, keys, args) => host.run(script, keys, args),
      delayedKey: this.delayedKey,
      retryKey: this.streamKeys[1],
      claimInterval: host.settings.claimInterval,
      onError: (error) => spec.onError(error),
      isStopped: () => this.stopped,
    });
    this.acks = new AckBatch({
      group: spec.group,
      inbox: spec.inbox,
      streamKeys: this.streamKeys,
      inboxKey: this.inboxKey,
      counters: host.counters,
      writes: this.writes,
      command: () => host.command(),
      run: (script, keys, args) => host.run(script, keys, args),
      isClosed: () => this.closed,
    });
  }

  /** Creates the groups, opens the blocking connection and starts the read, claim and mover loops. */
  async start(): Promise<void> {
    const command = this.host.command();
    await this.createGroups('$');
    await command.sadd(this.host.keys.registry(), this.spec.event);
    const blocking = await this.host.openBlockingConnection(`${this.host.consumerName}:${this.spec.group}`);
    this.blocking = blocking;
    blocking.on('ready', () => {
      this.host.counters.reconnects!++;
      this.needPending = true;
      this.pendingCursor = ['0', '0'];
      this.clientId = undefined;
      this.readyWaiter?.();
    });
    blocking.on('error', () => undefined);
    this.nextHousekeeping = Date.now() + this.host.settings.housekeepingInterval;
    this.loopDone = this.loop();
    this.scheduleClaim();
    this.mover.start();
  }

  /** Called by the transport when the command connection is ready again: retries failed acks. */
  commandReady(): void {
    this.acks.retryFailed();
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.loopDone;
    this.stopped = true;
    this.slotWaiter?.();
    this.readyWaiter?.();
    const deadline = Date.now() + this.host.settings.block + 1_000;
    let done = false;
    void this.loopDone.then(() => {
      done = true;
    });
    while (!done && Date.now() < deadline) {
      if (this.reading && this.clientId !== undefined) {
        await this.host
          .command()
          .call('CLIENT', 'UNBLOCK', this.clientId)
          .catch(() => undefined);
      }
      await Promise.race([this.loopDone, new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT_MS))]);
    }
    if (!done) this.blocking?.disconnect();
    await this.loopDone;
  }

  protected async shutdown(): Promise<void> {
    if (this.claimTimer !== undefined) clearTimeout(this.claimTimer);
    this.mover.stop();
    this.acks.flush();
    await this.writes.settled();
    await this.release([...this.held.values()]);
    this.blocking?.disconnect();
  }

  protected writeAck(delivery: RedisDelivery): void {
    this.acks.add(delivery.source, delivery.entryId, delivery.eventId);
  }

  protected writeRetry(delivery: RedisDelivery, delay: number): void {
    this.writes.add(
      this.host.run(
        retryScript,
        [this.streamKeys[delivery.source], this.delayedKey],
        [this.spec.group, delivery.entryId, delay, `${delivery.attempt}\n${delivery.text}`],
      ),
    );
    this.mover.due(delay);
  }

  protected writeDeadLetter(delivery: RedisDelivery, reason: DeadLetterReason): void {
    const record = this.deadLetterRecord(delivery.eventId, delivery.text, reason, delivery.attempt);
    this.writes.add(
      this.host.run(
        deadLetterScript,
        [this.streamKeys[delivery.source], this.deadKey],
        [this.spec.group, delivery.entryId, this.deadLetterIdOf(delivery.eventId), record],
      ),
    );
  }

  protected slotFreed(): void {
    if (this.slotWaiter !== undefined && this.inFlight < this.spec.concurrency) this.slotWaiter();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.inFlight >= this.spec.concurrency || this.backlog.length > 0) {
        await new Promise<void>((resolve) => {
          this.slotWaiter = resolve;
        });
        this.slotWaiter = undefined;
        continue;
      }
      const count = Math.min(this.host.settings.count, this.spec.concurrency - this.inFlight);
      try {
        if (this.clientId === undefined) this.clientId = Number(await this.blocking!.call('CLIENT', 'ID'));
        const fetched = this.needPending ? await this.readPending(count) : await this.readNew(count);
        if (fetched.length > 0) await this.accept(fetched);
      } catch (error) {
        this.reading = false;
        await this.recover(error);
      }
    }
  }

  /** Blocks up to `block` ms for entries never delivered to the group. */
  private async readNew(count: number): Promise<Fetched[]> {
    this.reading = true;
    this.readStartedAt = Date.now();
    const reply = await this.readGroup(count, ['BLOCK', this.host.settings.block], ['>', '>']);
    this.reading = false;
    const fetched: Fetched[] = [];
    for (const [key, entries] of reply ?? []) {
      const source: Source = key === this.streamKeys[0] ? 0 : 1;
      for (const [id, fields] of entries) fetched.push({ source, id, fields, deliveries: 1 });
    }
    return fetched;
  }

  /** `XREADGROUP` on the blocking connection, from both streams at `ids`. */
  private readGroup(
    count: number,
    block: readonly (string | number)[],
    ids: readonly [string, string],
  ): Promise<[string, RawEntry[]][] | null> {
    const [stream, retry] = this.streamKeys;
    const { consumerName } = this.host;
    return this.blocking!.call(
      'XREADGROUP',
      'GROUP',
      this.spec.group,
      consumerName,
      'COUNT',
      count,
      ...block,
      'STREAMS',
      stream,
      retry,
      ...ids,
    ) as Promise<[string, RawEntry[]][] | null>;
  }

  /** Reads this consumer's own pending entries (after a start or a reconnect), a page at a time. */
  private async readPending(count: number): Promise<Fetched[]> {
    const stream = this.streamKeys[0];
    const reply = await this.readGroup(count, [], this.pendingCursor);
    const bySource: [RawEntry[], RawEntry[]] = [[], []];
    for (const [key, entries] of reply ?? []) bySource[key === stream ? 0 : 1].push(...entries);
    if (bySource[0].length === 0 && bySource[1].length === 0) {
      this.needPending = false;
      return [];
    }
    const known = this.knownLocally();
    const fetched: Fetched[] = [];
    for (const source of [0, 1] as const) {
      const entries = bySource[source];
      if (entries.length === 0) continue;
      this.pendingCursor[source] = entries[entries.length - 1]![0];
      const unknown = entries.filter(([id]) => !known.has(`${source}${id}`));
      fetched.push(...(await this.withDeliveryCounts(source, unknown)));
    }
    return fetched;
  }

  /** Entries this process is handling, or handled and is still acking: never hand them out twice. */
  private knownLocally(): Set<string> {
    const known = new Set<string>(this.held.keys());
    this.acks.addKeysTo(known);
    return known;
  }

  /** Looks up the delivery counts of entries now pending for this consumer. */
  private async withDeliveryCounts(source: Source, entries: RawEntry[]): Promise<Fetched[]> {
    if (entries.length === 0) return [];
    const key = this.streamKeys[source];
    const live: RawEntry[] = [];
    const gone: string[] = [];
    for (const entry of entries) {
      if (entry[1] === null) gone.push(entry[0]);
      else live.push(entry);
    }
    if (gone.length > 0) {
      // The entry was deleted while pending (capped trimming): nothing left to deliver.
      this.host.counters.lost! += gone.length;
      await this.host.command().xack(key, this.spec.group, ...gone);
    }
    if (live.length === 0) return [];
    const pending = (await this.host
      .command()
      .call(
        'XPENDING',
        key,
        this.spec.group,
        live[0]![0],
        live[live.length - 1]![0],
        live.length,
        this.host.consumerName,
      )) as [string, string, number, number][];
    const counts = new Map(pending.map(([id, , , deliveries]) => [id, deliveries]));
    return live.map(([id, fields]) => ({ source, id, fields, deliveries: counts.get(id) ?? 1 }));
  }

  private async accept(fetched: Fetched[]): Promise<void> {
    const deliveries: RedisDelivery[] = [];
    const now = Date.now();
    for (const entry of fetched) {
      const text = field(entry.fields, 'e');
      const prior = entry.source === 1 ? Number(field(entry.fields, 'a') ?? 0) || 0 : 0;
      const decoded =
        text === undefined
          ? { envelope: undefined, malformed: `stream entry ${entry.id} has no "e" field` }
          : decodeDelivered(text, `stream entry ${entry.id}`);
      const delivery = new RedisDelivery(
        this,
        entry.source,
        entry.id,
        text ?? JSON.stringify(entry.fields),
        decoded,
        prior + entry.deliveries,
      );
      delivery.startedAt = now;
      deliveries.push(delivery);
    }
    if (this.spec.inbox) await this.markDuplicates(deliveries);
    // Fetched after stop() was called: not started here, released to other replicas on close.
    for (const delivery of deliveries) this.offer(delivery);
  }

  private async markDuplicates(deliveries: RedisDelivery[]): Promise<void> {
    const withIds = deliveries.filter((d) => d.envelope !== undefined);
    if (withIds.length === 0) return;
    try {
      const scores = (await this.host
        .command()
        .call('ZMSCORE', this.inboxKey, ...withIds.map((d) => d.envelope!.id))) as (string | null)[];
      withIds.forEach((d, i) => {
        d.duplicate = scores[i] !== null;
      });
    } catch (error) {
      this.spec.onError(error);
    }
  }

  private async recover(error: unknown): Promise<void> {
    if (this.stopped) return;
    const message = String((error as Error)?.message);
    if (message.startsWith('NOGROUP')) {
      // The group (or the whole stream) vanished, e.g. Redis restarted without its data: recreate it
      // from the start of what is left, so nothing still stored is skipped.
      await this.createGroups('0').catch((e: unknown) => this.spec.onError(e));
      return;
    }
    this.spec.onError(error);
    this.needPending = true;
    this.pendingCursor = ['0', '0'];
    const blocking = this.blocking!;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, blocking.status === 'ready' ? 100 : this.host.settings.claimInterval);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.readyWaiter = done;
    });
    this.readyWaiter = undefined;
  }

  private async createGroups(streamStart: '$' | '0'): Promise<void> {
    const command = this.host.command();
    const [stream, retry] = this.streamKeys;
    for (const [key, start] of [
      [stream, streamStart],
      [retry, '0'],
    ] as const) {
      await command.xgroup('CREATE', key, this.spec.group, start, 'MKSTREAM').catch((error: unknown) => {
        if (!isBusyGroup(error)) throw error;
      });
    }
  }

  /** Runs XCLAIM on `ids` of `source` for this consumer, with `extra` arguments (`IDLE`, `JUSTID`). */
  private xclaim(source: Source, ids: readonly string[], ...extra: (string | number)[]): Promise<unknown> {
    const { consumerName } = this.host;
    return this.host
      .command()
      .call('XCLAIM', this.streamKeys[source], this.spec.group, consumerName, 0, ...ids, ...extra);
  }

  /** Makes unsettled entries claimable by other replicas at once (their idle time is set past the visibility timeout). */
  private async release(deliveries: RedisDelivery[]): Promise<void> {
    for (const source of [0, 1] as const) {
      const ids = deliveries.filter((d) => d.source === source && !d.settled).map((d) => d.entryId);
      if (ids.length === 0) continue;
      await this.xclaim(source, ids, 'IDLE', this.host.settings.visibilityTimeout, 'JUSTID').catch(
        () => undefined,
      );
    }
  }

  private scheduleClaim(): void {
    if (this.stopped) return;
    this.claimTimer = setTimeout(() => void this.claimCycle(), this.host.settings.claimInterval);
    this.claimTimer.unref();
  }

  private async claimCycle(): Promise<void> {
    try {
      await this.claim();
      await this.refreshLeases();
      this.watchBlockingRead();
      if (Date.now() >= this.nextHousekeeping) {
        this.nextHousekeeping = Date.now() + this.host.settings.housekeepingInterval;
        const { settings, consumerName } = this.host;
        await housekeeping(this.host, {
          group: this.spec.group,
          streamKeys: this.streamKeys,
          countersKey: this.host.keys.counters(this.spec.event),
          inboxKey: this.spec.inbox ? this.inboxKey : undefined,
          inboxRetention: this.spec.inboxRetention,
          staleConsumerAfter: settings.staleConsumerAfter,
          consumerName,
        });
      }
    } catch (error) {
      if (!this.stopped) this.spec.onError(error);
    } finally {
      this.scheduleClaim();
    }
  }

  /** Takes over entries idle longer than the visibility timeout (their consumer died or hung). */
  private async claim(): Promise<void> {
    const command = this.host.command();
    for (const source of [0, 1] as const) {
      const free = this.spec.concurrency - this.inFlight - this.backlog.length;
      if (free <= 0 || this.stopped) return;
      const [next, entries, deleted] = (await command.call(
        'XAUTOCLAIM',
        this.streamKeys[source],
        this.spec.group,
        this.host.consumerName,
        this.host.settings.visibilityTimeout,
        this.claimCursor[source],
        'COUNT',
        free,
      )) as [string, (RawEntry | null)[], string[] | undefined];
      this.claimCursor[source] = next;
      if (deleted !== undefined && deleted.length > 0) this.host.counters.lost! += deleted.length;
      const known = this.knownLocally();
      const claimed = entries.filter(
        (e): e is RawEntry => e !== null && e[1] !== null && !known.has(`${source}${e[0]}`),
      );
      if (claimed.length === 0) continue;
      this.host.counters.claimed! += claimed.length;
      const fetched = await this.withDeliveryCounts(source, claimed);
      if (!this.stopped) await this.accept(fetched);
    }
  }

  /** Keeps long-running handlers' entries from being claimed by other replicas. */
  private async refreshLeases(): Promise<void> {
    const limit = Date.now() - this.host.settings.visibilityTimeout / 2;
    const stale = [...this.held.values()].filter((delivery) => delivery.startedAt < limit);
    for (const source of [0, 1] as const) {
      const ids = stale.filter((d) => d.source === source).map((d) => d.entryId);
      if (ids.length === 0) continue;
      await this.xclaim(source, ids, 'JUSTID');
      const now = Date.now();
      for (const delivery of stale) if (delivery.source === source) delivery.startedAt = now;
    }
  }

  /** A blocking read that outlives BLOCK by far sits on a dead socket: reconnect (the pending re-read follows). */
  private watchBlockingRead(): void {
    const { block } = this.host.settings;
    if (this.reading && Date.now() - this.readStartedAt > block + Math.max(block, 5_000)) {
      this.spec.onError(
        new Error(`XREADGROUP for group "${this.spec.group}" got no reply in time; reconnecting`),
      );
      this.blocking?.disconnect(true);
    }
  }
}
