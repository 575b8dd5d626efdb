/**
 * What the tiered store needs of its L2: raw entry access (read without decoding, write an encoded value),
 * the invalidation channel (publish, and a Redis connection to subscribe on), a breaker to watch, and
 * readiness. The `redis` store is one; the memcached store's L1 mode gives another (memcached entries,
 * invalidations over a Redis channel, since memcached has no pub/sub).
 */
import type { HealthCheckResult } from '@blueprint/core';
import type { Redis } from 'ioredis';
import type { BreakerState } from '../../internal/breaker.js';
import type { LockLease, StoreSetOptions } from '../../transport/store.js';
import type { RawEntry } from '../redis/redis-store.js';

/** An entry as L2 returns it before decoding, with its tags when L2 keeps them in the entry. @internal */
export interface TieredRawEntry extends RawEntry {
  /** The entry's tags, for the L1 copy (an L2 that cannot list a tag's keys gives them here). */
  readonly tags?: readonly string[] | undefined;
}

/** The L2 of a tiered store. @internal */
export interface TieredL2 {
  /** The key prefix, which also names the default invalidation channel. */
  readonly prefix: string;
  /** How long opening a connection may take, in ms. */
  readonly settings: { readonly connectTimeout: number };
  /** The readiness check's name in an app. */
  readonly healthCheckName: string;
  readonly lock?: ((key: string) => Promise<LockLease | undefined>) | undefined;
  readonly lockWait: number | undefined;
  connect(): Promise<void>;
  close(): Promise<void>;
  getRaw(key: string): Promise<TieredRawEntry | undefined>;
  decode(key: string, encoded: string): unknown;
  setEncoded(key: string, encoded: string, options: StoreSetOptions): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** Removes tagged entries; returns their keys when L2 knows them (else `[]`: L1 drops them by tag). */
  invalidateTagsReturningKeys(tags: readonly string[]): Promise<string[]>;
  clear(): Promise<void>;
  /** Publishes an invalidation message. */
  publish(channel: string, message: string): Promise<void>;
  /** A new Redis connection for the invalidation subscriber. */
  duplicate(): Promise<Redis>;
  health(): Promise<HealthCheckResult>;
  onBreakerChange(listener: (state: BreakerState, previous: BreakerState) => void): void;
}
