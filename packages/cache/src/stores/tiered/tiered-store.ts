/**
 * The `tiered` store: an L1 memory store in each process in front of L2 Redis. A hit in L1 costs no
 * I/O and no decoding. Every write, delete and invalidation publishes the affected keys on a Redis
 * pub/sub channel, and the other processes drop their L1 copies.
 *
 * Redis pub/sub is at-most-once: a process whose subscriber connection dropped missed messages, so L1
 * is cleared every time the channel (re)subscribes, when the subscriber's heartbeat fails, and when
 * the L2 breaker closes after an outage. A read from L2 that raced with an invalidation of its key does
 * not fill L1. What is left is bounded by the entries' TTL (and `l1.ttl`): see the README.
 *
 * With a `signer` (auth on), each invalidation message is `<signature>~<JSON>`, and a message without a
 * valid signature is ignored (counted in `invalidationsRefused`): only processes holding the topology's
 * secret can make the others drop or keep their copies.
 */
import { randomUUID } from 'node:crypto';
import type { HealthCheckResult } from '@blueprint/core';
import type { MessageSigner } from '@blueprint/core/plugin';
import { closeClient, settleWithin } from '@blueprint/core/redis';
import { jsonCodec, parseJsonSafely } from '@blueprint/core/transport';
import type { Redis } from 'ioredis';
import { cloneValue } from '../../internal/clone.js';
import { signText, verifiedText } from '../../internal/signed-text.js';
import { encodeCacheValue } from '../../transport/driver.js';
import type {
  CacheEntry,
  CacheStore,
  LockLease,
  MaybePromise,
  StoreSetOptions,
} from '../../transport/store.js';
import { MemoryStore } from '../memory/memory-store.js';
import { parseRedisOptions } from '../redis/options.js';
import { RedisStore } from '../redis/redis-store.js';
import type { TieredL2, TieredRawEntry } from './l2.js';
import { type TieredStoreOptions, tieredStoreSchema } from './options.js';

/** Counters of a tiered store. */
export interface TieredStoreStats {
  /** Times L1 was cleared because invalidations may have been missed. */
  readonly l1Clears: number;
  /** Invalidation messages published. */
  readonly invalidationsSent: number;
  /** Invalidation messages received from other processes. */
  readonly invalidationsReceived: number;
  /** Invalidation messages ignored because they were unsigned or wrongly signed (auth on). */
  readonly invalidationsRefused: number;
}

/** Why L1 was cleared. */
export type L1ClearReason = 'subscribed' | 'heartbeat' | 'breaker-closed' | 'remote-clear';

interface InvalidationMessage {
  readonly from: string;
  readonly keys?: readonly string[];
  readonly tags?: readonly string[];
  readonly clear?: boolean;
}

interface ReadRecord {
  invalidated: boolean;
  count: number;
}

const KEYS_PER_MESSAGE = 1_000;

/**
 * The `tiered` store. Create it with `tieredStore(options)`. `L2` is the redis store, or another
 * {@link TieredL2} (the memcached store's L1 mode).
 */
export class TieredStore<L2 extends TieredL2 = RedisStore> implements CacheStore {
  /** Always `tiered`. */
  readonly type = 'tiered';
  /** The L1 memory tier of this process. */
  readonly l1: MemoryStore;
  /** The L2 tier: Redis (or memcached, see the memcached store's `l1`). */
  readonly l2: L2;
  /** The invalidation channel. */
  readonly channel: string;
  /** The readiness check's name in an app: that of L2 (`redis:cache`). */
  readonly healthCheckName: string;
  /** Takes the cross-process lock of `key` (present when the `lock` option is set). */
  readonly lock?: (key: string) => Promise<LockLease | undefined>;
  /** How long a process waits for another lock holder's value, in ms. */
  readonly lockWait: number | undefined;
  private readonly id = randomUUID();
  private readonly l1Ttl: number | undefined;
  private readonly heartbeat: number;
  private readonly reads = new Map<string, ReadRecord>();
  private readonly counters = {
    l1Clears: 0,
    invalidationsSent: 0,
    invalidationsReceived: 0,
    invalidationsRefused: 0,
  };
  private readonly signer: MessageSigner | undefined;
  private readonly clearListeners: ((reason: L1ClearReason) => void)[] = [];
  private subscriber: Redis | undefined;
  private subscribed = false;
  private subscribedWaiters: (() => void)[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private beating = false;
  private connecting: Promise<void> | undefined;

  /**
   * Checks `options` with {@link tieredStoreSchema}; throws `CACHE_OPTIONS_INVALID` naming a bad one.
   * `given` replaces the redis store the options would build (its Redis options are then unused). @internal
   */
  constructor(options: TieredStoreOptions, given?: L2) {
    const { type, l1, channel, heartbeat, ...l2 } = parseRedisOptions(
      tieredStoreSchema,
      options,
      'tieredStore(options)',
    );
    const { ttl, ...bounds } = l1;
    this.signer = options.signer;
    this.l2 = (given ?? new RedisStore({ ...l2, client: options.client, signer: options.signer })) as L2;
    this.healthCheckName = this.l2.healthCheckName;
    this.l1 = new MemoryStore(bounds);
    this.l1Ttl = ttl;
    this.channel = channel ?? `${this.l2.prefix}invalidate`;
    this.heartbeat = heartbeat;
    this.lockWait = this.l2.lockWait;
    const l2Lock = this.l2.lock;
    if (l2Lock !== undefined) this.lock = l2Lock;
    this.l2.onBreakerChange((state, previous) => {
      if (state === 'closed' && previous !== 'closed') this.dropL1('breaker-closed');
    });
  }

  /** True while the invalidation channel is subscribed. */
  get listening(): boolean {
    return this.subscribed;
  }

  /** Counters of L1 clears and invalidation messages. */
  stats(): TieredStoreStats {
    return { ...this.counters };
  }

  /** Calls `listener` whenever L1 is cleared because invalidations may have been missed. */
  onL1Clear(listener: (reason: L1ClearReason) => void): void {
    this.clearListeners.push(listener);
  }

  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<void> {
    await this.l2.connect();
    const subscriber = await this.l2.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
    subscriber.on('ready', () => void this.subscribe(subscriber));
    subscriber.on('close', () => {
      this.subscribed = false;
    });
    const subscribedOnce = new Promise<void>((resolve) => this.subscribedWaiters.push(resolve));
    if (subscriber.status === 'wait') void subscriber.connect().catch(() => undefined);
    else if (subscriber.status === 'ready') void this.subscribe(subscriber);
    await settleWithin(subscribedOnce, this.l2.settings.connectTimeout);
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeat);
    this.heartbeatTimer.unref();
  }

  get(key: string): MaybePromise<CacheEntry | undefined> {
    const local = this.l1.get(key);
    if (local !== undefined && local.freshUntil > Date.now()) return local;
    return this.readThrough(key, local);
  }

  private async readThrough(key: string, local: CacheEntry | undefined): Promise<CacheEntry | undefined> {
    let record = this.reads.get(key);
    if (record === undefined) {
      record = { invalidated: false, count: 0 };
      this.reads.set(key, record);
    }
    record.count++;
    try {
      let raw: TieredRawEntry | undefined;
      try {
        raw = await this.l2.getRaw(key);
      } catch (error) {
        if (local !== undefined) return local;
        throw error;
      }
      if (raw === undefined) {
        if (local !== undefined) this.l1.deleteNow([key]);
        return undefined;
      }
      const master = this.l2.decode(key, raw.encoded);
      if (record.invalidated) return { value: master, freshUntil: raw.freshUntil };
      this.l1.setDecoded(key, master, raw.encoded.length, {
        freshUntil: raw.freshUntil,
        expiresAt: this.l1Expiry(raw.expiresAt),
        tags: raw.tags,
      });
      return { value: cloneValue(master), freshUntil: raw.freshUntil };
    } finally {
      record.count--;
      if (record.count === 0 && this.reads.get(key) === record) this.reads.delete(key);
    }
  }

  async set(key: string, value: unknown, options: StoreSetOptions): Promise<void> {
    const encoded = encodeCacheValue(key, value);
    const master = typeof value === 'object' && value !== null ? jsonCodec.decode(encoded) : value;
    this.markRead(key);
    this.l1.setDecoded(key, master, encoded.length, {
      freshUntil: options.freshUntil,
      expiresAt: this.l1Expiry(options.expiresAt),
      tags: options.tags,
    });
    await this.l2.setEncoded(key, encoded, options);
    await this.broadcast({ keys: [key] });
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) this.markRead(key);
    this.l1.deleteNow(keys);
    await this.l2.delete(keys);
    await this.broadcast({ keys });
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    this.markAllReads();
    this.l1.invalidateTagsNow(tags);
    const removed = await this.l2.invalidateTagsReturningKeys(tags);
    this.l1.deleteNow(removed);
    await this.broadcast({ keys: removed, tags });
  }

  async clear(): Promise<void> {
    this.markAllReads();
    this.l1.clearNow();
    await this.l2.clear();
    await this.broadcast({ clear: true });
  }

  async health(): Promise<HealthCheckResult> {
    const l2 = await this.l2.health();
    return {
      ok: l2.ok && this.subscribed,
      details: { ...(l2.details as object), channel: this.subscribed ? 'subscribed' : 'down' },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.subscribed = false;
    this.connecting = undefined;
    if (subscriber !== undefined) {
      subscriber.removeAllListeners('ready');
      await closeClient(subscriber);
    }
    await this.l2.close();
    this.l1.clearNow();
  }

  private async broadcast(message: Omit<InvalidationMessage, 'from'>): Promise<void> {
    const keys = message.keys ?? [];
    const chunks: Omit<InvalidationMessage, 'from'>[] = [];
    if (keys.length <= KEYS_PER_MESSAGE) chunks.push(message);
    else {
      for (let i = 0; i < keys.length; i += KEYS_PER_MESSAGE) {
        chunks.push({ ...message, keys: keys.slice(i, i + KEYS_PER_MESSAGE) });
      }
    }
    for (const chunk of chunks) {
      const text = JSON.stringify({ from: this.id, ...chunk });
      const signer = this.signer;
      await this.l2.publish(this.channel, signer === undefined ? text : signText(signer, text));
      this.counters.invalidationsSent++;
    }
  }

  private receive(channel: string, signedText: string): void {
    if (channel !== this.channel) return;
    const text = this.signer === undefined ? signedText : verifiedText(this.signer, signedText);
    if (text === undefined) {
      this.counters.invalidationsRefused++;
      return;
    }
    let message: InvalidationMessage;
    try {
      message = parseJsonSafely(text) as InvalidationMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || message.from === this.id) return;
    this.counters.invalidationsReceived++;
    if (message.clear === true) {
      this.dropL1('remote-clear');
      return;
    }
    if (Array.isArray(message.keys)) {
      const keys = message.keys.filter((key): key is string => typeof key === 'string');
      for (const key of keys) this.markRead(key);
      this.l1.deleteNow(keys);
    }
    if (Array.isArray(message.tags)) {
      this.markAllReads();
      this.l1.invalidateTagsNow(message.tags.filter((tag): tag is string => typeof tag === 'string'));
    }
  }

  private async subscribe(subscriber: Redis): Promise<void> {
    try {
      await subscriber.subscribe(this.channel);
    } catch {
      if (subscriber.status === 'ready' && this.subscriber === subscriber) subscriber.disconnect(true);
      return;
    }
    if (this.subscriber !== subscriber) return;
    this.subscribed = true;
    this.dropL1('subscribed');
    const waiters = this.subscribedWaiters;
    this.subscribedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private beat(): void {
    const subscriber = this.subscriber;
    if (subscriber === undefined || subscriber.status !== 'ready' || this.beating) return;
    this.beating = true;
    subscriber.ping().then(
      () => {
        this.beating = false;
      },
      () => {
        this.beating = false;
        if (this.subscriber !== subscriber || subscriber.status !== 'ready') return;
        this.subscribed = false;
        this.dropL1('heartbeat');
        subscriber.disconnect(true);
      },
    );
  }

  private dropL1(reason: L1ClearReason): void {
    this.markAllReads();
    this.l1.clearNow();
    this.counters.l1Clears++;
    for (const listener of this.clearListeners) listener(reason);
  }

  private markRead(key: string): void {
    const record = this.reads.get(key);
    if (record !== undefined) record.invalidated = true;
  }

  private markAllReads(): void {
    for (const record of this.reads.values()) record.invalidated = true;
  }

  private l1Expiry(expiresAt: number): number {
    return this.l1Ttl === undefined ? expiresAt : Math.min(expiresAt, Date.now() + this.l1Ttl);
  }
}
