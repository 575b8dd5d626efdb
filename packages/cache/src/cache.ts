/**
 * The `Cache` service: `get`, `set`, `getOrSet`, `delete`, `invalidateTags` over one store, with
 * single flight per key, stale-while-revalidate, an optional cross-process lock, and counters.
 * It never fails a read because the store failed: a store error is counted, reported to `onError`,
 * and the call falls through to the loader.
 */
import type { HealthCheckResult } from '@blueprint/core';
import { CacheEntryCorruptError, isCacheError } from './errors.js';
import type { CacheOutcome, OutcomeRecorder } from './instruments.js';
import { cloneValue } from './internal/clone.js';
import { type CachePolicy, type CacheSetOptions, type GetOrSetOptions, toPolicy } from './policy.js';
import { MemoryStore, MISS } from './stores/memory/memory-store.js';
import {
  type CacheEntry,
  type CacheStore,
  type EntryReader,
  isPromiseLike,
  type LockLease,
} from './transport/store.js';

/** What the cache was doing when a store failed, as `onError` reports it. */
export type CacheOperation = 'get' | 'set' | 'delete' | 'invalidateTags' | 'clear' | 'lock';

/** Options of {@link createCache}. */
export interface CacheOptions {
  /** Where entries live. Default: `memoryStore()` (10,000 entries). */
  readonly store?: CacheStore | undefined;
  /**
   * Called for every store failure the cache absorbed (Redis down or slow, a corrupt entry). Calls
   * still succeed; use it to log or count. Default: none (the `errors` counter still counts).
   */
  readonly onError?:
    | ((error: unknown, context: { operation: CacheOperation; key?: string }) => void)
    | undefined;
}

/** Counters of a cache, for metrics. They only grow. */
export interface CacheStats {
  /** Calls answered with a fresh value from the store. */
  readonly hits: number;
  /** Calls that found no fresh value (they waited for a loader, or got a stale value). */
  readonly misses: number;
  /** Calls answered with a stale value because the refresh failed or was slow. */
  readonly staleServed: number;
  /** Loader runs (concurrent misses of one key share one run). */
  readonly loaderCalls: number;
  /** Loader runs that threw. */
  readonly loaderErrors: number;
  /** Store failures absorbed (Redis down, timed out, breaker open, corrupt entry). */
  readonly errors: number;
}

type Outcome = CacheOutcome;

/** Set when a delete, set or invalidation overtakes a read or load of the key: its result is not stored. */
interface Ticket {
  invalidated: boolean;
  /** The read failed: Redis is down or silent, so the load neither locks nor waits for its write. */
  storeFailed: boolean;
}

/**
 * One read of a key from the store, shared by the calls that arrive while it runs. It is also what the
 * store hands its answer to ({@link EntryReader}): on a hit the caller's value comes straight out of
 * `found`, in the step that receives the store's reply.
 */
class Flight implements Ticket, EntryReader<unknown> {
  invalidated = false;
  storeFailed = false;
  /** How the flight was answered; joiners count the same. */
  kind: Outcome = 'miss';
  promise: Promise<unknown> = NOT_STARTED;

  constructor(
    private readonly cache: Cache,
    readonly key: string,
    readonly loader: () => unknown,
    readonly policy: CachePolicy,
    readonly tagsOf: (() => readonly string[]) | undefined,
    /** Where the leader's outcome is recorded (a decorated method's metrics). */
    readonly recorder: OutcomeRecorder | undefined,
    /** Checks a value read from the store (see {@link Cache.miss}). */
    readonly accepts: ((value: unknown) => boolean) | undefined,
  ) {}

  found(entry: CacheEntry | undefined): unknown {
    return this.cache.readAnswered(this, entry);
  }

  failed(error: unknown): unknown {
    return this.cache.readFailed(this, error);
  }
}

interface Load extends Ticket {
  readonly promise: Promise<unknown>;
}

const TIMED_OUT = Symbol('timed out');
/** A flight's promise until its read starts. */
const NOT_STARTED: Promise<unknown> = new Promise(() => undefined);

/**
 * The key of one permanent entry in the map of flights. V8 shrinks a Map's table (a runtime call and a
 * new table) whenever a delete leaves it empty, which a hit does when it is the only read in flight; with
 * this entry the map never empties. It is no cache key (keys are strings), so no read finds it.
 */
const KEEP = Symbol('keeps the flights map from emptying');
/** The policy of the flight under {@link KEEP}, which never loads. */
const IDLE_POLICY: CachePolicy = { ttl: 1, staleFor: 0, refreshTimeout: 0, lock: false };

const noop = () => undefined;

/**
 * A cache over one store. Create it with {@link createCache}; in an app, inject it with `CacheTokens.Cache`.
 *
 * Values are copies: what a caller receives is its own, and mutating it changes nothing in the cache.
 * Concurrent calls for one key share one store read and one loader run (the first caller's options
 * apply to all of them).
 */
/** How often one tag was invalidated through {@link Cache.invalidateTags} in this process. */
export interface TagInvalidations {
  readonly tag: string;
  /** Calls of `invalidateTags` (and `@CacheInvalidate`) that named the tag. */
  readonly invalidations: number;
  /** When the last one ran (ms since the epoch). */
  readonly lastAt: number;
}

/** Most tags whose invalidations a cache counts; past it, the tag invalidated longest ago is forgotten. */
const COUNTED_TAGS = 500;

export class Cache {
  /** The store. */
  readonly store: CacheStore;
  private readonly local: MemoryStore | undefined;
  private readonly onError: CacheOptions['onError'];
  /** Reads in progress by key, and {@link KEEP} (see there). */
  private readonly flights = new Map<string | typeof KEEP, Flight>([
    [KEEP, new Flight(this, '', noop, IDLE_POLICY, undefined, undefined, undefined)],
  ]);
  private readonly loads = new Map<string, Load>();
  private lastPolicy: (GetOrSetOptions & { options: GetOrSetOptions; policy: CachePolicy }) | undefined;
  private readonly counters = {
    hits: 0,
    misses: 0,
    staleServed: 0,
    loaderCalls: 0,
    loaderErrors: 0,
    errors: 0,
  };
  private readonly tagCounts = new Map<string, { invalidations: number; lastAt: number }>();

  constructor(options: CacheOptions = {}) {
    this.store = options.store ?? new MemoryStore();
    this.onError = options.onError;
    const store = this.store;
    this.local = store instanceof MemoryStore ? store : hasL1(store) ? store.l1 : undefined;
  }

  /** Opens the store's connections (a server that is down is not an error: calls degrade). */
  connect(): Promise<void> {
    return this.store.connect();
  }

  /** Closes the store. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** A snapshot of the counters. */
  stats(): CacheStats {
    return { ...this.counters };
  }

  /**
   * The tags invalidated in this process since it started, the most recent first (at most 500: the tag
   * invalidated longest ago is forgotten first). The count is of invalidations, not of entries: a store
   * that invalidates by generation (memcached) removes entries without listing them.
   */
  tagInvalidations(): TagInvalidations[] {
    return [...this.tagCounts].reverse().map(([tag, counted]) => ({ tag, ...counted }));
  }

  /** Readiness of the store's server, when it has one. */
  async health(): Promise<HealthCheckResult> {
    return this.store.health ? this.store.health() : { ok: true, details: { store: this.store.type } };
  }

  /**
   * Returns the fresh value under `key`, or `undefined` (a stored `undefined` reads the same). An entry
   * that is corrupt or wrongly signed reads as `undefined`, is reported to `onError` and deleted.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    let entry: CacheEntry | undefined;
    try {
      entry = await this.store.get(key);
    } catch (error) {
      if (isCacheError(error, 'CACHE_ENTRY_CORRUPT')) this.discard(key);
      this.absorb(error, 'get', key);
    }
    if (entry !== undefined && entry.freshUntil > Date.now()) {
      this.counters.hits++;
      return entry.value as T;
    }
    this.counters.misses++;
    return undefined;
  }

  /**
   * Stores a copy of `value`. Rejects with `CACHE_VALUE_INVALID` when the codec cannot encode it; a
   * store failure is absorbed (counted, reported to `onError`).
   */
  async set(key: string, value: unknown, options: CacheSetOptions): Promise<void> {
    const policy = toPolicy(options, 'cache.set(key, value, options)');
    this.invalidateLoad(key);
    await this.write(key, value, policy, undefined);
  }

  /**
   * Returns the fresh value under `key`, or runs `loader` (once for all concurrent callers of the key),
   * stores its result and returns it. With `staleFor`, a stale value is returned when the loader fails
   * or takes longer than `refreshTimeout`, and the refresh finishes in the background.
   *
   * @example
   * const product = await cache.getOrSet(`product:${id}`, () => db.products.find(id), { ttl: '5m', tags: ['products'] });
   */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options: GetOrSetOptions): Promise<T> {
    let policy: CachePolicy;
    try {
      policy = this.policyOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.fetch(key, loader, policy, undefined) as Promise<T>;
  }

  /** Normalizes options, reusing the last result when the same options are passed again unchanged. */
  private policyOf(options: GetOrSetOptions): CachePolicy {
    const last = this.lastPolicy;
    if (
      last !== undefined &&
      last.options === options &&
      last.ttl === options.ttl &&
      last.staleFor === options.staleFor &&
      last.refreshTimeout === options.refreshTimeout &&
      last.tags === options.tags &&
      last.lock === options.lock
    ) {
      return last.policy;
    }
    const policy = toPolicy(options, 'cache.getOrSet(key, loader, options)');
    this.lastPolicy = { ...options, options, policy };
    return policy;
  }

  /** Removes the entries under `keys` (in every process, for a tiered store). */
  async delete(keys: string | readonly string[]): Promise<void> {
    const list = typeof keys === 'string' ? [keys] : keys;
    for (const key of list) this.invalidateLoad(key);
    try {
      await this.store.delete(list);
    } catch (error) {
      this.absorb(error, 'delete', list[0]);
    }
  }

  /** Removes every entry tagged with one of `tags`. */
  async invalidateTags(tags: string | readonly string[]): Promise<void> {
    const list = typeof tags === 'string' ? [tags] : tags;
    this.countInvalidations(list);
    this.invalidateAll();
    try {
      await this.store.invalidateTags(list);
    } catch (error) {
      this.absorb(error, 'invalidateTags');
    }
  }

  private countInvalidations(tags: readonly string[]): void {
    const now = Date.now();
    for (const tag of tags) {
      const counted = this.tagCounts.get(tag);
      // Re-inserted, so the map's order is the order of the last invalidations.
      this.tagCounts.delete(tag);
      this.tagCounts.set(tag, { invalidations: (counted?.invalidations ?? 0) + 1, lastAt: now });
      if (this.tagCounts.size > COUNTED_TAGS) this.tagCounts.delete(this.tagCounts.keys().next().value!);
    }
  }

  /** Removes every entry of the store. */
  async clear(): Promise<void> {
    this.invalidateAll();
    try {
      await this.store.clear();
    } catch (error) {
      this.absorb(error, 'clear');
    }
  }

  /**
   * The read-through path shared by `getOrSet` and `@Cached`, with options already normalized.
   * `tagsOf` computes the tags of a loaded value (decorators with a tags function). @internal
   */
  fetch(
    key: string,
    loader: () => unknown,
    policy: CachePolicy,
    tagsOf: (() => readonly string[]) | undefined,
  ): Promise<unknown> {
    const value = this.tryHit(key);
    if (value !== MISS) return Promise.resolve(value);
    return this.miss(key, loader, policy, tagsOf);
  }

  /**
   * The synchronous fast path: a copy of the fresh value in this process's memory (the memory store,
   * or a tiered store's L1), counted as a hit; {@link MISS} otherwise. @internal
   */
  tryHit(key: string): unknown {
    const local = this.local;
    if (local === undefined) return MISS;
    const value = local.hit(key);
    if (value !== MISS) this.counters.hits++;
    return value;
  }

  /**
   * The read-through path after {@link tryHit} missed. `recorder` is told how the call was answered
   * (`hit` from the store, `miss`, `stale`). `accepts` checks a value read from the store (a contract
   * method's output schema): a value it refuses is a miss, reported to `onError` as
   * `CACHE_ENTRY_CORRUPT` and deleted from the store. @internal
   */
  miss(
    key: string,
    loader: () => unknown,
    policy: CachePolicy,
    tagsOf: (() => readonly string[]) | undefined,
    recorder?: OutcomeRecorder,
    accepts?: (value: unknown) => boolean,
  ): Promise<unknown> {
    const flying = this.flights.get(key);
    if (flying !== undefined) return flying.promise.then((value) => this.joined(flying, value, recorder));
    const flight = new Flight(this, key, loader, policy, tagsOf, recorder, accepts);
    this.flights.set(key, flight);
    const store = this.store;
    try {
      if (store.read !== undefined) flight.promise = store.read(key, flight);
      else {
        const found = store.get(key);
        flight.promise = isPromiseLike(found)
          ? found.then(
              (entry) => flight.found(entry),
              (error: unknown) => flight.failed(error),
            )
          : Promise.resolve(found).then((entry) => flight.found(entry));
      }
    } catch (error) {
      flight.promise = Promise.reject(error).then(undefined, (failure: unknown) => flight.failed(failure));
    }
    return flight.promise;
  }

  /**
   * The store's answer to a flight's read: on a fresh hit, the value (the store decoded it for this
   * caller); otherwise the load, or the stale value. @internal
   */
  readAnswered(flight: Flight, found: CacheEntry | undefined): unknown {
    const key = flight.key;
    const accepts = flight.accepts;
    const entry =
      found === undefined || accepts === undefined || accepts(found.value) ? found : this.refuse(key, found);
    if (entry !== undefined && entry.freshUntil > Date.now()) {
      this.land(flight, 'hit');
      return entry.value;
    }
    return this.afterRead(flight, entry);
  }

  /** A flight's read failed: counted, reported, and the call falls through to the loader. @internal */
  readFailed(flight: Flight, error: unknown): unknown {
    const key = flight.key;
    if (isCacheError(error, 'CACHE_ENTRY_CORRUPT')) this.discard(key);
    else flight.storeFailed = true;
    this.absorb(error, 'get', key);
    return this.afterRead(flight, undefined);
  }

  /** Reports and deletes an entry whose value its reader refuses; the read becomes a miss. */
  private refuse(key: string, entry: CacheEntry): undefined {
    this.discard(key);
    this.absorb(
      new CacheEntryCorruptError(
        `the cached value of "${key}" does not match the output schema of the method that caches it (written by another version, or not by this app); it was deleted and is treated as a miss`,
        { details: { key, reason: 'schema', freshUntil: entry.freshUntil } },
      ),
      'get',
      key,
    );
    return undefined;
  }

  /** Deletes an entry that cannot be served, without failing or invalidating the read that found it. */
  private discard(key: string): void {
    try {
      this.store.delete([key]).then(noop, (error: unknown) => this.absorb(error, 'delete', key));
    } catch (error) {
      this.absorb(error, 'delete', key);
    }
  }

  private joined(flight: Flight, value: unknown, recorder: OutcomeRecorder | undefined): unknown {
    this.count(flight.kind);
    recorder?.record(flight.kind);
    return cloneValue(value);
  }

  /** Records the outcome of a flight (for the leader and, through `kind`, every joiner) and ends it. */
  private land(flight: Flight, kind: Outcome): void {
    flight.kind = kind;
    this.count(kind);
    flight.recorder?.record(kind);
    const key = flight.key;
    if (this.flights.get(key) === flight) this.flights.delete(key);
  }

  private count(kind: Outcome): void {
    if (kind === 'hit') this.counters.hits++;
    else {
      this.counters.misses++;
      if (kind === 'stale') this.counters.staleServed++;
    }
  }

  /** After a read that found no fresh value: load (sharing a running load), or serve the stale value. */
  private async afterRead(flight: Flight, entry: CacheEntry | undefined): Promise<unknown> {
    const policy = flight.policy;
    let kind: Outcome = 'miss';
    try {
      const load = this.load(flight);
      if (entry === undefined || policy.staleFor === 0) return await load;
      try {
        const value = await settleOrTimeOut(load, policy.refreshTimeout);
        if (value !== TIMED_OUT) return value;
      } catch (error) {
        if (isCacheError(error, 'CACHE_VALUE_INVALID')) throw error;
      }
      kind = 'stale';
      return entry.value;
    } finally {
      this.land(flight, kind);
    }
  }

  /** Runs the flight's loader once per key at a time; a later caller joins the running load with a copy. */
  private load(flight: Flight): Promise<unknown> {
    const key = flight.key;
    const running = this.loads.get(key);
    if (running !== undefined) return running.promise.then(cloneValue);
    const record: { promise: Promise<unknown>; invalidated: boolean; storeFailed: boolean } = {
      promise: undefined as unknown as Promise<unknown>,
      invalidated: flight.invalidated,
      storeFailed: flight.storeFailed,
    };
    record.promise = this.runLoader(flight, record);
    record.promise.catch(noop);
    this.loads.set(key, record);
    const done = () => {
      if (this.loads.get(key) === record) this.loads.delete(key);
    };
    record.promise.then(done, done);
    return record.promise;
  }

  /**
   * Runs the flight's loader (under the store's lock when the policy takes one) and stores the value,
   * unless a write or invalidation overtook the load (`record`).
   */
  private async runLoader(flight: Flight, record: Ticket): Promise<unknown> {
    const { key, loader, policy, tagsOf } = flight;
    const store = this.store;
    let lease: LockLease | undefined;
    if (policy.lock && store.lock !== undefined && !record.storeFailed) {
      try {
        lease = await store.lock(key);
        if (lease === undefined) {
          const entry = await this.waitForHolder(key, store.lockWait ?? 1_000);
          if (entry !== undefined) return entry.value;
        }
      } catch (error) {
        this.absorb(error, 'lock', key);
      }
    }
    try {
      this.counters.loaderCalls++;
      let value: unknown;
      try {
        value = await loader();
      } catch (error) {
        this.counters.loaderErrors++;
        throw error;
      }
      if (!record.invalidated) {
        const writing = this.write(key, value, policy, tagsOf);
        if (record.storeFailed) writing.catch((error) => this.absorb(error, 'set', key));
        else await writing;
      }
      return value;
    } finally {
      if (lease !== undefined) void lease.release();
    }
  }

  /** Polls the store for the value another process is loading, with a growing interval, up to `wait` ms. */
  private async waitForHolder(key: string, wait: number): Promise<CacheEntry | undefined> {
    const deadline = Date.now() + wait;
    let interval = 5;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(interval, left));
      interval = Math.min(interval * 2, 100);
      const entry = await this.store.get(key);
      if (entry !== undefined && entry.freshUntil > Date.now()) return entry;
    }
  }

  private async write(
    key: string,
    value: unknown,
    policy: CachePolicy,
    tagsOf: (() => readonly string[]) | undefined,
  ): Promise<void> {
    const freshUntil = Date.now() + policy.ttl;
    const tags = tagsOf !== undefined ? tagsOf() : policy.tags;
    try {
      await this.store.set(key, value, { freshUntil, expiresAt: freshUntil + policy.staleFor, tags });
    } catch (error) {
      if (isCacheError(error, 'CACHE_VALUE_INVALID')) throw error;
      this.absorb(error, 'set', key);
    }
  }

  private invalidateLoad(key: string): void {
    const flight = this.flights.get(key);
    if (flight !== undefined) flight.invalidated = true;
    const load = this.loads.get(key);
    if (load !== undefined) load.invalidated = true;
  }

  private invalidateAll(): void {
    for (const flight of this.flights.values()) flight.invalidated = true;
    for (const load of this.loads.values()) load.invalidated = true;
  }

  private absorb(error: unknown, operation: CacheOperation, key?: string): void {
    this.counters.errors++;
    if (this.onError === undefined) return;
    try {
      this.onError(error, key === undefined ? { operation } : { operation, key });
    } catch {
      // A failing error hook must not fail the call.
    }
  }
}

function hasL1(store: CacheStore): store is CacheStore & { l1: MemoryStore } {
  return (store as { l1?: unknown }).l1 instanceof MemoryStore;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves with the value of `promise`, or with {@link TIMED_OUT} after `ms` (at once for 0). */
async function settleOrTimeOut(promise: Promise<unknown>, ms: number): Promise<unknown> {
  if (ms <= 0) return TIMED_OUT;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates a cache. Without a store it keeps entries in memory.
 *
 * @example
 * const cache = createCache({ store: redisStore({ url: 'redis://127.0.0.1:6379' }) });
 * await cache.connect();
 * const user = await cache.getOrSet(`user:${id}`, () => db.users.find(id), { ttl: '1m' });
 */
export function createCache(options: CacheOptions = {}): Cache {
  return new Cache(options);
}
