/**
 * Options of the `tiered` store, apart from its code: the topology's `cache` section is checked with
 * {@link tieredStoreSchema} without loading the store.
 */
import { durationSchema } from '@blueprint/core/plugin';
import { z } from 'zod';
import type { StoreOptions } from '../../transport/driver.js';
import { memoryBoundsShape } from '../memory/memory-store.js';
import { type RedisClientOption, redisStoreShape } from '../redis/options.js';

/** `l1`: the memory tier of each process. */
const l1Schema = z.strictObject({
  ...memoryBoundsShape,
  /** Longest time an L1 copy is kept, whatever the entry's TTL. Default: the entry's own TTL. */
  ttl: durationSchema.optional(),
});

/**
 * Options of the `tiered` store: those of the `redis` store (its L2), plus `l1`, `channel` and
 * `heartbeat`. The topology section `{ "type": "tiered", "url": ... }`, and `tieredStore(options)`
 * without `type`.
 */
export const tieredStoreSchema = z.strictObject({
  type: z.literal('tiered'),
  ...redisStoreShape,
  /** The L1 memory tier. Default: `{ "maxEntries": 10000 }`. */
  l1: l1Schema.optional().default({ maxEntries: 10_000 }),
  /** Pub/sub channel of invalidation messages. Default: `"<prefix>invalidate"`. */
  channel: z.string().min(1).optional(),
  /**
   * How often the subscriber connection is pinged; a ping that fails reconnects it, which clears L1.
   * Default: `"2s"`.
   */
  heartbeat: durationSchema.optional().default(2_000),
});

/** Options of the L1 tier. */
export type TieredL1Options = z.input<typeof l1Schema>;

/** Options of `tieredStore(options)`. */
export type TieredStoreOptions = Omit<StoreOptions<typeof tieredStoreSchema>, 'url'> & RedisClientOption;
