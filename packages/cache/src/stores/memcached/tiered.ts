/**
 * The memcached store with `l1`: the tiered store with memcached as its L2. Memcached has no pub/sub, so
 * the invalidation messages that keep the L1 copies of several processes consistent travel on a Redis
 * channel (`invalidation.url`); entries live in memcached only.
 */
import type { HealthCheckResult } from '@blueprint/core';
import type { MessageSigner } from '@blueprint/core/plugin';
import type { Redis } from 'ioredis';
import type { BreakerState } from '../../internal/breaker.js';
import type { LockLease, StoreSetOptions } from '../../transport/store.js';
import { RedisStore } from '../redis/redis-store.js';
import type { TieredL2, TieredRawEntry } from '../tiered/l2.js';
import { TieredStore } from '../tiered/tiered-store.js';
import { MemcachedStore } from './memcached-store.js';
import type { ParsedMemcachedOptions } from './options.js';

/** The L2 of a tiered store over memcached: entries in memcached, the invalidation channel in Redis. */
export class MemcachedTier implements TieredL2 {
  readonly prefix: string;
  readonly settings: { readonly connectTimeout: number };
  readonly healthCheckName: string;
  readonly lock: ((key: string) => Promise<LockLease | undefined>) | undefined;
  readonly lockWait: number | undefined;

  /** `entries` keeps the entries; `channel` carries the invalidation messages (its entries are unused). */
  constructor(
    readonly entries: MemcachedStore,
    readonly channel: RedisStore,
  ) {
    this.prefix = entries.prefix;
    this.settings = { connectTimeout: entries.settings.connectTimeout };
    this.healthCheckName = entries.healthCheckName;
    this.lock = entries.lock;
    this.lockWait = entries.lockWait;
  }

  async connect(): Promise<void> {
    await Promise.all([this.entries.connect(), this.channel.connect()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.entries.close(), this.channel.close()]);
  }

  getRaw(key: string): Promise<TieredRawEntry | undefined> {
    return this.entries.getRaw(key);
  }

  decode(key: string, encoded: string): unknown {
    return this.entries.decode(key, encoded);
  }

  setEncoded(key: string, encoded: string, options: StoreSetOptions): Promise<void> {
    return this.entries.setEncoded(key, encoded, options);
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.entries.delete(keys);
  }

  invalidateTagsReturningKeys(tags: readonly string[]): Promise<string[]> {
    return this.entries.invalidateTagsReturningKeys(tags);
  }

  clear(): Promise<void> {
    return this.entries.clear();
  }

  publish(channel: string, message: string): Promise<void> {
    return this.channel.publish(channel, message);
  }

  duplicate(): Promise<Redis> {
    return this.channel.duplicate();
  }

  async health(): Promise<HealthCheckResult> {
    const [entries, channel] = await Promise.all([this.entries.health(), this.channel.health()]);
    return {
      ok: entries.ok && channel.ok,
      details: { ...(entries.details as object), invalidation: channel.details },
    };
  }

  onBreakerChange(listener: (state: BreakerState, previous: BreakerState) => void): void {
    this.entries.onBreakerChange(listener);
  }
}

/**
 * A tiered store over memcached, built from the memcached store's parsed options (with `l1` and
 * `invalidation`); a `signer` signs its entries and its invalidation messages.
 */
export function memcachedTieredStore(
  parsed: ParsedMemcachedOptions,
  signer?: MessageSigner | undefined,
): TieredStore<MemcachedTier> {
  const { l1, invalidation, ...memcached } = parsed;
  if (l1 === undefined || invalidation === undefined) {
    throw new Error('memcachedTieredStore needs the l1 and invalidation options');
  }
  const prefix = memcached.prefix;
  const channel = new RedisStore({
    url: invalidation.url,
    ...(prefix === undefined ? {} : { prefix }),
    commandTimeout: memcached.commandTimeout,
    connectTimeout: memcached.connectTimeout,
    breaker: memcached.breaker,
  });
  const tier = new MemcachedTier(new MemcachedStore({ ...memcached, signer }), channel);
  return new TieredStore(
    {
      url: invalidation.url,
      prefix: tier.prefix,
      l1,
      heartbeat: invalidation.heartbeat,
      signer,
      ...(invalidation.channel === undefined ? {} : { channel: invalidation.channel }),
    },
    tier,
  );
}
