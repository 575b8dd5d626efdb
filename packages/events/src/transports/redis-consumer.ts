import type { Redis } from 'ioredis';
import type { EventEnvelope } from '../envelope.js';
import {
  type DeadLetterReason,
  type Delivery,
  deadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from '../transport.js';
import { BrokerDelivery, type DeliverySettler, decodeDelivered } from './broker-delivery.js';
import { encodeDeadLetterRecord } from './dead-letter-record.js';
import { PendingWrites } from './pending-writes.js';
import type { RedisKeys } from './redis-keys.js';
import {
  ackWithInboxScript,
  deadLetterScript,
  moveDueScript,
  type RedisScript,
  removeStaleConsumersScript,
  retryScript,
  TRIM_SCAN,
  trimInboxScript,
  trimScript,
} from './redis-scripts.js';

/** Timings and sizes a consumer uses, in ms and counts. */
export interface RedisConsumerSettings {
  readonly block: number;
  readonly count: number;
  readonly claimInterval: number;
  readonly visibilityTimeout: number;
  readonly staleConsumerAfter: number;
  readonly housekeepingInterval: number;
}

/** What a consumer needs from its transport. */
export interface RedisConsumerHost {
  readonly keys: RedisKeys;
  readonly settings: RedisConsumerSettings;
  readonly consumerName: string;
  readonly counters: Record<string, number>;
  /** The shared command connection. */
  command(): Redis;
  /** A new dedicated connection, ready. */
  openBlockingConnection(name: string): Promise<Redis>;
  /** Runs a script on the command connection. */
  run(script: RedisScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Forgets a closed consumer. */
  forget(consumer: RedisConsumer): void;
}

type Source = 0 | 1;
type Fields = string[] | null;
type RawEntry = [id: string, fields: Fields];
interface Fetched {
  readonly source: Source;
  readonly id: string;
  readonly fields: Fields;
  readonly deliveries: number;
}

const MAX_SCRIPT_BATCH = 500;
const RELEASE_WAIT_MS = 50;

function field(fields: Fields, name: string): string | undefined {
  if (fields === null) return undefined;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function isBusyGroup(error: unknown): boolean {
  return String((error as Error)?.message).startsWith('BUSYGROUP');
}

/** One delivery of a stream entry. */
class RedisDelivery extends BrokerDelivery<RedisDelivery> {
  tracked = false;

  constructor(
    consumer: RedisConsumer,
    readonly source: Source,
    readonly entryId: string,
    readonly text: string,
    readonly envelope: EventEnvelope | undefined,
    readonly malformed: string | undefined,
    readonly attempt: number,
    public duplicate: boolean,
  ) {
    super(consumer);
  }
}

/** One subscription on Redis Streams. */
export class RedisConsumer implements TransportSubscription, DeliverySettler<RedisDelivery> {
  private blocking: Redis | undefined;
  private clientId: number | undefined;
  private readonly streamKeys: readonly [string, string];
  private readonly delayedKey: string;
  private readonly inboxKey: string;
  private readonly deadKey: string;
  private inFlight = 0;
  private readonly handed = new Map<string, RedisDelivery>();
  private backlog: RedisDelivery[] = [];
  private draining = false;
  private needPending = true;
  private pendingCursor: [string, string] = ['0', '0'];
  private claimCursor: [string, string] = ['0-0', '0-0'];
  private reading = false;
  private readStartedAt = 0;
  private stopped = false;
  private closed = false;
  private loopDone: Promise<void> = Promise.resolve();
  private slotWaiter: (() => void) | undefined;
  private readyWaiter: (() => void) | undefined;
  private acks: [string[], string[]] = [[], []];
  private ackIds: [string[], string[]] = [[], []];
  private flushing: string[][] = [];
  private flushScheduled = false;
  private readonly writes = new PendingWrites((error) => this.spec.onError(error));
  private claimTimer: NodeJS.Timeout | undefined;
  private moverTimer: NodeJS.Timeout | undefined;
  private moverAt = Number.POSITIVE_INFINITY;
  private nextHousekeeping = 0;

  constructor(
    private readonly host: RedisConsumerHost,
    private readonly spec: SubscriptionSpec,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    const { keys } = host;
    this.streamKeys = [keys.stream(spec.event), keys.retry(spec.event, spec.group)];
    this.delayedKey = keys.delayed(spec.event, spec.group);
    this.inboxKey = keys.inbox(spec.event, spec.group);
    this.deadKey = keys.dead(spec.event);
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
    this.scheduleMover(0);
  }

  /** Called by the transport when the command connection is ready again: retries failed acks. */
  commandReady(): void {
    if (this.acks[0].length > 0 || this.acks[1].length > 0) this.scheduleFlush();
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

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    if (this.claimTimer !== undefined) clearTimeout(this.claimTimer);
    if (this.moverTimer !== undefined) clearTimeout(this.moverTimer);
    this.flush();
    await this.writes.settled();
    await this.release([...this.handed.values(), ...this.backlog]);
    this.handed.clear();
    this.backlog = [];
    this.blocking?.disconnect();
    this.host.forget(this);
  }

  ack(delivery: RedisDelivery): void {
    this.settle(delivery);
    if (this.closed) return;
    this.acks[delivery.source].push(delivery.entryId);
    if (this.spec.inbox) this.ackIds[delivery.source].push(delivery.envelope?.id ?? delivery.entryId);
    this.scheduleFlush();
  }

  retry(delivery: RedisDelivery, delayMs: number): void {
    this.settle(delivery);
    if (this.closed) return;
    const delay = Math.max(1, Math.round(delayMs));
    this.writes.add(
      this.host.run(
        retryScript,
        [this.streamKeys[delivery.source], this.delayedKey],
        [this.spec.group, delivery.entryId, delay, `${delivery.attempt}\n${delivery.text}`],
      ),
    );
    if (Date.now() + delay < this.moverAt) this.scheduleMover(delay);
  }

  deadLetter(delivery: RedisDelivery, reason: DeadLetterReason): void {
    this.settle(delivery);
    if (this.closed) return;
    const eventId = delivery.envelope?.id ?? delivery.entryId;
    const record = encodeDeadLetterRecord({
      group: this.spec.group,
      event: this.spec.event,
      eventId,
      text: delivery.text,
      reason,
      attempts: delivery.attempt,
    });
    this.writes.add(
      this.host.run(
        deadLetterScript,
        [this.streamKeys[delivery.source], this.deadKey],
        [this.spec.group, delivery.entryId, deadLetterId(this.spec.group, this.spec.event, eventId), record],
      ),
    );
  }

  private settle(delivery: RedisDelivery): void {
    delivery.settled = true;
    if (delivery.tracked) this.handed.delete(`${delivery.source}${delivery.entryId}`);
    this.inFlight--;
    if (this.backlog.length > 0 && !this.stopped) this.drainBacklog();
    if (this.slotWaiter !== undefined && this.inFlight < this.spec.concurrency) this.slotWaiter();
  }

  private async loop(): Promise<void> {
    const { group } = this.spec;
    const name = this.host.consumerName;
    const [stream, retry] = this.streamKeys;
    while (!this.stopped) {
      if (this.inFlight >= this.spec.concurrency || this.backlog.length > 0) {
        await new Promise<void>((resolve) => {
          this.slotWaiter = resolve;
        });
        this.slotWaiter = undefined;
        continue;
      }
      const blocking = this.blocking!;
      const count = Math.min(this.host.settings.count, this.spec.concurrency - this.inFlight);
      try {
        if (this.clientId === undefined) this.clientId = Number(await blocking.call('CLIENT', 'ID'));
        let fetched: Fetched[];
        if (this.needPending) fetched = await this.readPending(count);
        else {
          this.reading = true;
          this.readStartedAt = Date.now();
          const reply = (await blocking.call(
            'XREADGROUP',
            'GROUP',
            group,
            name,
            'COUNT',
            count,
            'BLOCK',
            this.host.settings.block,
            'STREAMS',
            stream,
            retry,
            '>',
            '>',
          )) as [string, RawEntry[]][] | null;
          this.reading = false;
          fetched = [];
          if (reply !== null) {
            for (const [key, entries] of reply) {
              const source: Source = key === stream ? 0 : 1;
              for (const [id, fields] of entries) fetched.push({ source, id, fields, deliveries: 1 });
            }
          }
        }
        if (fetched.length > 0) await this.accept(fetched);
      } catch (error) {
        this.reading = false;
        await this.recover(error);
      }
    }
  }

  private async readPending(count: number): Promise<Fetched[]> {
    const [stream, retry] = this.streamKeys;
    const reply = (await this.blocking!.call(
      'XREADGROUP',
      'GROUP',
      this.spec.group,
      this.host.consumerName,
      'COUNT',
      count,
      'STREAMS',
      stream,
      retry,
      this.pendingCursor[0],
      this.pendingCursor[1],
    )) as [string, RawEntry[]][] | null;
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
      fetched.push(
        ...(await this.withDeliveryCounts(
          source,
          entries.filter(([id]) => !known.has(`${source}${id}`)),
        )),
      );
    }
    return fetched;
  }

  /** Entries this process is handling, or handled and is still acking: never hand them out twice. */
  private knownLocally(): Set<string> {
    const known = new Set<string>(this.handed.keys());
    for (const d of this.backlog) known.add(`${d.source}${d.entryId}`);
    for (const source of [0, 1] as const) for (const id of this.acks[source]) known.add(`${source}${id}`);
    for (const batch of this.flushing) for (const key of batch) known.add(key);
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
      const { envelope, malformed } =
        text === undefined
          ? { envelope: undefined, malformed: `stream entry ${entry.id} has no "e" field` }
          : decodeDelivered(text, `stream entry ${entry.id}`);
      const delivery = new RedisDelivery(
        this,
        entry.source,
        entry.id,
        text ?? JSON.stringify(entry.fields),
        envelope,
        malformed,
        prior + entry.deliveries,
        false,
      );
      delivery.startedAt = now;
      deliveries.push(delivery);
    }
    if (this.spec.inbox) await this.markDuplicates(deliveries);
    for (const delivery of deliveries) {
      // Fetched after stop() was called: not started here, released to other replicas on close.
      if (!this.stopped && this.inFlight < this.spec.concurrency && this.backlog.length === 0)
        this.hand(delivery);
      else this.backlog.push(delivery);
    }
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

  private hand(delivery: RedisDelivery): void {
    this.inFlight++;
    this.deliver(delivery);
    if (!delivery.settled) {
      delivery.tracked = true;
      this.handed.set(`${delivery.source}${delivery.entryId}`, delivery);
    }
  }

  private drainBacklog(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.backlog.length > 0 && this.inFlight < this.spec.concurrency)
        this.hand(this.backlog.shift()!);
    } finally {
      this.draining = false;
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

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const command = this.host.command();
    for (const source of [0, 1] as const) {
      while (this.acks[source].length > 0) {
        const ids = this.acks[source].splice(0, MAX_SCRIPT_BATCH);
        const eventIds = this.spec.inbox ? this.ackIds[source].splice(0, MAX_SCRIPT_BATCH) : [];
        const key = this.streamKeys[source];
        const keys = ids.map((id) => `${source}${id}`);
        this.flushing.push(keys);
        const written = this.spec.inbox
          ? this.host.run(
              ackWithInboxScript,
              [key, this.inboxKey],
              [this.spec.group, ids.length, ...ids, ...eventIds],
            )
          : command.xack(key, this.spec.group, ...ids);
        this.writes.add(
          written.then(
            () => this.flushing.splice(this.flushing.indexOf(keys), 1),
            (error: unknown) => {
              this.flushing.splice(this.flushing.indexOf(keys), 1);
              this.host.counters.ackFailures! += ids.length;
              if (this.closed) throw error;
              // Keep them: they are written again once the connection is back (see commandReady).
              this.acks[source].push(...ids);
              if (this.spec.inbox) this.ackIds[source].push(...eventIds);
              throw error;
            },
          ),
        );
      }
    }
  }

  /** Makes unsettled entries claimable by other replicas at once (their idle time is set past the visibility timeout). */
  private async release(deliveries: RedisDelivery[]): Promise<void> {
    const command = this.host.command();
    for (const source of [0, 1] as const) {
      const ids = deliveries.filter((d) => d.source === source && !d.settled).map((d) => d.entryId);
      if (ids.length === 0) continue;
      await command
        .call(
          'XCLAIM',
          this.streamKeys[source],
          this.spec.group,
          this.host.consumerName,
          0,
          ...ids,
          'IDLE',
          this.host.settings.visibilityTimeout,
          'JUSTID',
        )
        .catch(() => undefined);
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
        await this.housekeeping();
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
    const stale: [string[], string[]] = [[], []];
    for (const delivery of [...this.handed.values(), ...this.backlog]) {
      if (delivery.startedAt < limit) stale[delivery.source].push(delivery.entryId);
    }
    for (const source of [0, 1] as const) {
      if (stale[source].length === 0) continue;
      await this.host
        .command()
        .call(
          'XCLAIM',
          this.streamKeys[source],
          this.spec.group,
          this.host.consumerName,
          0,
          ...stale[source],
          'JUSTID',
        );
      const now = Date.now();
      for (const delivery of [...this.handed.values(), ...this.backlog]) {
        if (delivery.source === source && delivery.startedAt < limit) delivery.startedAt = now;
      }
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

  private async housekeeping(): Promise<void> {
    const [stream, retry] = this.streamKeys;
    const { settings, consumerName } = this.host;
    for (const key of [stream, retry]) {
      await this.host.run(
        removeStaleConsumersScript,
        [key],
        [this.spec.group, settings.staleConsumerAfter, consumerName],
      );
    }
    await this.host.run(trimScript, [retry, this.host.keys.counters(this.spec.event)], [0, 0, TRIM_SCAN]);
    if (this.spec.inbox) {
      await this.host.run(
        trimInboxScript,
        [stream, retry, this.inboxKey],
        [this.spec.inboxRetention, 60_000],
      );
    }
  }

  private scheduleMover(delay: number): void {
    if (this.stopped) return;
    if (this.moverTimer !== undefined) clearTimeout(this.moverTimer);
    this.moverAt = Date.now() + delay;
    this.moverTimer = setTimeout(() => void this.moveDue(), delay);
    this.moverTimer.unref();
  }

  /** Puts due retries of this group on its retry stream, then sleeps until the next one is due. */
  private async moveDue(): Promise<void> {
    this.moverTimer = undefined;
    this.moverAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const { claimInterval } = this.host.settings;
    let next = claimInterval;
    try {
      const [moved, wait] = (await this.host.run(
        moveDueScript,
        [this.delayedKey, this.streamKeys[1]],
        [MAX_SCRIPT_BATCH],
      )) as [number, number];
      next = moved >= MAX_SCRIPT_BATCH ? 0 : wait < 0 ? claimInterval : Math.min(wait, claimInterval);
    } catch (error) {
      this.spec.onError(error);
    }
    if (this.moverTimer === undefined || Date.now() + next < this.moverAt) this.scheduleMover(next);
  }
}
