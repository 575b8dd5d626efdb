/**
 * @blueprint/cache/transport — what a store author needs: the store interface, the descriptor types,
 * the option parser and the value encoder every store uses. A store is a descriptor made with core's
 * `defineDriver` (from `@blueprint/core/transport`); give it to `cachePlugin({ stores: [...] })`.
 */
export {
  type AnyCacheStoreDriver,
  type CacheStoreContext,
  type CacheStoreDriver,
  encodeCacheValue,
  parseStoreOptions,
  type StoreOptions,
} from './driver.js';
export {
  type CacheEntry,
  type CacheStore,
  type EntryReader,
  isPromiseLike,
  type LockLease,
  type MaybePromise,
  type StoreSetOptions,
} from './store.js';
