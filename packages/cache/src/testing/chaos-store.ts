/**
 * A store wrapper that fails or lags on demand, to test how code behaves when the cache's server
 * misbehaves, without a server.
 */
import { CacheUnavailableError } from '../errors.js';
import type { CacheEntry, CacheStore, LockLease, MaybePromise, StoreSetOptions } from '../transport/store.js';

/**
 * Wraps a store: `fail()` makes every operation reject with `CACHE_STORE_UNAVAILABLE` (or the given
 * error), `lag(ms)` delays every operation, `heal()` restores normal behaviour. `calls` counts
 * operations that reached the wrapper.
 */
export class ChaosStore implements CacheStore {
  /** Operations that reached the wrapper, by name. */
  readonly calls = { get: 0, set: 0, delete: 0, invalidateTags: 0, clear: 0, lock: 0 };
  private failure: unknown;
  private delay = 0;

  constructor(readonly inner: CacheStore) {}

  get type(): string {
    return `chaos(${this.inner.type})`;
  }

  get lockWait(): number | undefined {
    return this.inner.lockWait;
  }

  /** Every operation rejects from now on. */
  fail(error: unknown = new CacheUnavailableError('chaos: the store is down')): this {
    this.failure = error;
    return this;
  }

  /** Every operation waits `ms` first. */
  lag(ms: number): this {
    this.delay = ms;
    return this;
  }

  /** Back to normal. */
  heal(): this {
    this.failure = undefined;
    this.delay = 0;
    return this;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get(key: string): MaybePromise<CacheEntry | undefined> {
    this.calls.get++;
    if (this.failure === undefined && this.delay === 0) return this.inner.get(key);
    return this.around(() => this.inner.get(key));
  }

  set(key: string, value: unknown, options: StoreSetOptions): Promise<void> {
    this.calls.set++;
    return this.around(() => this.inner.set(key, value, options));
  }

  delete(keys: readonly string[]): Promise<void> {
    this.calls.delete++;
    return this.around(() => this.inner.delete(keys));
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    this.calls.invalidateTags++;
    return this.around(() => this.inner.invalidateTags(tags));
  }

  clear(): Promise<void> {
    this.calls.clear++;
    return this.around(() => this.inner.clear());
  }

  get lock(): ((key: string) => Promise<LockLease | undefined>) | undefined {
    const inner = this.inner.lock;
    if (inner === undefined) return undefined;
    return (key) => {
      this.calls.lock++;
      return this.around(() => inner.call(this.inner, key));
    };
  }

  private async around<T>(operation: () => MaybePromise<T>): Promise<T> {
    if (this.delay > 0) await new Promise((resolve) => setTimeout(resolve, this.delay));
    if (this.failure !== undefined) throw this.failure;
    return operation();
  }
}

/** Wraps `inner` in a {@link ChaosStore}. */
export function chaosStore(inner: CacheStore): ChaosStore {
  return new ChaosStore(inner);
}
