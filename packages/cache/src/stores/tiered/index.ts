/**
 * @blueprint/cache/stores/tiered — the `tiered` store: an L1 memory tier in each process in front of L2
 * Redis, kept consistent by invalidation messages. Needs `ioredis` (an optional peer dependency,
 * imported when the store connects).
 *
 * @example
 * "cache": { "type": "tiered", "url": "${REDIS_URL:-redis://127.0.0.1:6379}", "l1": { "maxEntries": 5000 } }
 */
import type { TieredStoreOptions } from './options.js';
import { TieredStore } from './tiered-store.js';

export { tieredStoreDriver } from './driver.js';
export { type TieredL1Options, type TieredStoreOptions, tieredStoreSchema } from './options.js';
export { type L1ClearReason, TieredStore, type TieredStoreStats } from './tiered-store.js';

/**
 * Creates a `tiered` store (L1 memory + L2 Redis + invalidation channel). Nothing connects until
 * `connect()`. Throws `CACHE_OPTIONS_INVALID` naming a bad option.
 *
 * @example
 * const cache = createCache({ store: tieredStore({ url: process.env.REDIS_URL, l1: { maxEntries: 5_000 } }) });
 */
export function tieredStore(options: TieredStoreOptions): TieredStore {
  return new TieredStore(options);
}
