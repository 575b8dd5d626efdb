import type * as cacheTransport from '@blueprint/cache/transport';
import type { CacheEntry, LockLease, MaybePromise, StoreSetOptions } from '@blueprint/cache/transport';
import type { HealthCheckResult } from '@blueprint/core';

// #region interface
interface CacheStore {
  readonly type: string; // 'memory', 'redis', 'tiered', ...
  connect(): Promise<void>; // resolves once usable, or once it gave up waiting
  get(key: string): MaybePromise<CacheEntry | undefined>; // { value, freshUntil } (possibly stale) or undefined
  set(key: string, value: unknown, options: StoreSetOptions): Promise<void>; // { freshUntil, expiresAt, tags? }
  delete(keys: readonly string[]): Promise<void>; // absent keys are ignored
  invalidateTags(tags: readonly string[]): Promise<void>; // removes every entry with one of the tags
  clear(): Promise<void>; // removes every entry of this store
  close(): Promise<void>; // leaves no timer or socket
  readonly lock?: ((key: string) => Promise<LockLease | undefined>) | undefined; // optional cross-process lock
  readonly lockWait?: number | undefined; // ms to wait for another holder's value
  health?(): Promise<HealthCheckResult>; // optional readiness
  readonly healthCheckName?: string | undefined; // its name in readiness; default "<type>:cache"
}
// #endregion interface

/** `true` when the README's shape and the package's type accept the same values. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Fails to compile when the interface above drifts from `@blueprint/cache/transport`'s. */
export const storeMatches: Same<CacheStore, cacheTransport.CacheStore> = true;
