/**
 * @blueprint/cache/stores/memory — the `memory` store: an LRU in each process.
 *
 * @example
 * "cache": { "type": "memory", "maxEntries": 50000, "maxBytes": "64mb" }
 */
import { defineDriver } from '@blueprint/core/transport';
import type { CacheStoreContext } from '../../transport/driver.js';
import { MemoryStore, type MemoryStoreOptions, memoryStoreSchema } from './memory-store.js';

export { MemoryStore, type MemoryStoreOptions, memoryStoreSchema } from './memory-store.js';

/** The `memory` store's descriptor, for `cachePlugin({ stores })` and `cacheSectionSchema`. */
export const memoryStoreDriver = defineDriver({
  type: 'memory',
  schema: memoryStoreSchema,
  create: (options, _context: CacheStoreContext) => new MemoryStore(options),
});

/**
 * Creates a `memory` store. Throws `CACHE_OPTIONS_INVALID` naming a bad option.
 *
 * @example
 * const cache = createCache({ store: memoryStore({ maxEntries: 50_000, maxBytes: '64mb' }) });
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}
