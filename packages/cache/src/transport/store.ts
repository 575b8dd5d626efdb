/**
 * The store (driver) interface every cache store implements: `memory`, `redis`, `tiered`, or your own.
 * A store keeps codec-safe values with two times: `freshUntil` (the value is fresh until then) and
 * `expiresAt` (the store forgets it then; the time in between is the `staleFor` window). The `Cache`
 * decides what is a hit, a stale value or a miss; a store only keeps and forgets.
 *
 * Run `describeCacheStoreConformance` from `@blueprint/cache/testing` against a new store.
 */
import type { HealthCheckResult } from '@blueprint/core';

/** A value or a promise of it: stores that can answer synchronously (memory, an L1 hit) do. */
export type MaybePromise<T> = T | Promise<T>;

/** What {@link CacheStore.read} hands its answer to. */
export interface EntryReader<R> {
  /** Called with the entry under the key (possibly stale), or `undefined` when absent or expired. */
  found(entry: CacheEntry | undefined): R | Promise<R>;
  /** Called with why the read failed: `CACHE_STORE_UNAVAILABLE`, `CACHE_ENTRY_CORRUPT`, ... */
  failed(error: unknown): R | Promise<R>;
}

/** An entry as a store returns it. */
export interface CacheEntry {
  /** The value: a copy the caller owns. */
  readonly value: unknown;
  /** Epoch ms until which the value is fresh. */
  readonly freshUntil: number;
}

/** How long a store keeps an entry, and under which tags. */
export interface StoreSetOptions {
  /** Epoch ms until which the value is fresh. */
  readonly freshUntil: number;
  /** Epoch ms at which the store forgets the entry (`>= freshUntil`). */
  readonly expiresAt: number;
  /** Tags that `invalidateTags` can remove the entry by. */
  readonly tags?: readonly string[] | undefined;
}

/** A held cross-process lock; see {@link CacheStore.lock}. */
export interface LockLease {
  /** Releases the lock if this holder still owns it. Never rejects. */
  release(): Promise<void>;
}

/** A cache store. Every method but `get` returns a promise; errors are coded `CACHE_*` errors. */
export interface CacheStore {
  /** The store type, for messages and readiness: `memory`, `redis`, `tiered`, ... */
  readonly type: string;
  /** Opens connections. Resolves once usable, or once it gave up waiting; a server that is down is no error. */
  connect(): Promise<void>;
  /** Returns the entry under `key` (possibly stale), or `undefined` when absent or past `expiresAt`. */
  get(key: string): MaybePromise<CacheEntry | undefined>;
  /**
   * Optional: reads `key` like {@link get} and resolves with what `reader.found` (or, when the read fails,
   * `reader.failed`) returns, called in the step that receives the server's reply (never before `read`
   * returned). The `Cache` uses it when present, so a hit reaches its caller without one more promise
   * after the store's.
   */
  read?<R>(key: string, reader: EntryReader<R>): Promise<R>;
  /** Stores a copy of `value` under `key`; rejects with `CACHE_VALUE_INVALID` when the codec refuses it. */
  set(key: string, value: unknown, options: StoreSetOptions): Promise<void>;
  /** Removes the entries under `keys`; absent keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
  /** Removes every entry tagged with one of `tags`; cost grows with the entries in those tags. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /** Removes every entry of this store (only under its own prefix for shared servers). */
  clear(): Promise<void>;
  /** Closes connections and timers; leaves nothing that keeps the process alive. */
  close(): Promise<void>;
  /**
   * Takes a short lock on `key` shared by every process (stores that have one); resolves to a lease,
   * or `undefined` when another holder has it.
   */
  readonly lock?: ((key: string) => Promise<LockLease | undefined>) | undefined;
  /** How long a process waits for another lock holder's value before loading itself, in ms. */
  readonly lockWait?: number | undefined;
  /** Readiness of the store's server(s), for the app's readiness report. */
  health?(): Promise<HealthCheckResult>;
  /**
   * The name of the readiness check the cache plugin adds for a store with `health` (the redis and
   * tiered stores: `redis:cache`). Default: `"<type>:cache"`.
   */
  readonly healthCheckName?: string | undefined;
}

/** True when `value` is a promise (or any thenable). */
export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
