/**
 * The `cache` section of the topology: which store a process uses, as a discriminated union on `type`
 * over the registered store descriptors (the built-in `memory`, `redis`, `tiered` and `memcached`, plus those given
 * to `cachePlugin({ stores })`). Durations read `"50ms"`, `"2s"`; sizes `"64mb"`; every value may come
 * from `${ENV:-default}`.
 *
 * @example
 * "cache": { "type": "tiered", "url": "${REDIS_URL:-redis://127.0.0.1:6379}", "l1": { "maxEntries": 5000 } }
 */
import type { MessageSigner } from '@blueprint/core/plugin';
import { driverFor, driverOptions, driverSectionSchema } from '@blueprint/core/transport';
import type { z } from 'zod';
import { memcachedStoreDriver } from './stores/memcached/driver.js';
import { memoryStoreDriver } from './stores/memory/index.js';
import { redisStoreDriver } from './stores/redis/driver.js';
import { tieredStoreDriver } from './stores/tiered/driver.js';
import type { AnyCacheStoreDriver, CacheStoreContext } from './transport/driver.js';
import type { CacheStore } from './transport/store.js';

/** The stores every app can select: `memory`, `redis`, `tiered` and `memcached`. */
export const BUILT_IN_CACHE_STORES: readonly AnyCacheStoreDriver[] = Object.freeze([
  memoryStoreDriver,
  redisStoreDriver,
  tieredStoreDriver,
  memcachedStoreDriver,
]);

/** A parsed `cache` section of one of the built-in stores. */
export type BuiltInCacheTopology =
  | z.output<typeof memoryStoreDriver.schema>
  | z.output<typeof redisStoreDriver.schema>
  | z.output<typeof tieredStoreDriver.schema>
  | z.output<typeof memcachedStoreDriver.schema>;

/** The parsed `cache` section: a built-in store's, or that of a store given to `cachePlugin({ stores })`. */
export type CacheTopology =
  | BuiltInCacheTopology
  | { readonly type: string; readonly [option: string]: unknown };

/**
 * The zod schema of the `cache` section over `drivers`: an unknown `type` is an error listing the
 * allowed ones.
 *
 * @example
 * cacheSectionSchema([...BUILT_IN_CACHE_STORES, memcachedStoreDriver]).parse({ type: 'memcached', ... });
 */
export function cacheSectionSchema(
  drivers: readonly AnyCacheStoreDriver[] = BUILT_IN_CACHE_STORES,
): z.ZodType<CacheTopology> {
  return driverSectionSchema('cache store', drivers) as z.ZodType<CacheTopology>;
}

/** What a process uses when the topology has no `cache` section. */
export const DEFAULT_CACHE_TOPOLOGY: CacheTopology = memoryStoreDriver.schema.parse({ type: 'memory' });

/** The key prefix of the stores of an app on a shared server: `"<app name>:cache:"`. */
const appKeyPrefix = (appName: string): string => `${appName}:cache:`;

/**
 * Builds the store a parsed `cache` section selects among `drivers`. The key prefix of stores on a
 * shared server defaults to `"<appName>:cache:"`; a `signer` (auth on) is handed to the store, which
 * signs its entries with it. Nothing connects until the store's `connect()`.
 *
 * @example
 * const store = await createStoreFromTopology(topology.sections.cache, { appName: 'shop' });
 */
export async function createStoreFromTopology(
  config: CacheTopology,
  context: { readonly appName: string; readonly signer?: MessageSigner | undefined },
  drivers: readonly AnyCacheStoreDriver[] = BUILT_IN_CACHE_STORES,
): Promise<CacheStore> {
  const driver = driverFor(drivers, config.type);
  const storeContext: CacheStoreContext = {
    appName: context.appName,
    keyPrefix: appKeyPrefix(context.appName),
    signer: context.signer,
  };
  return driver.create(driverOptions(driver, config), storeContext);
}
