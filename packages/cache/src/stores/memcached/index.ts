/**
 * @blueprint/cache/stores/memcached — the `memcached` store: entries on one or more memcached servers
 * spread by consistent hashing, one breaker per server; with `l1`, a tiered store whose L1 invalidations
 * travel on a Redis channel. Needs `memjs` (an optional peer dependency, imported when the store
 * connects), and `ioredis` with `l1`.
 *
 * @example
 * "cache": { "type": "memcached", "servers": "${MEMCACHED_SERVERS:-127.0.0.1:11211}", "commandTimeout": "50ms" }
 */
import type { MessageSigner } from '@blueprint/core/plugin';
import { defineDriver } from '@blueprint/core/transport';
import type { CacheStoreContext } from '../../transport/driver.js';
import type { TieredStore } from '../tiered/tiered-store.js';
import { type MemcachedSignerOption, MemcachedStore } from './memcached-store.js';
import {
  type MemcachedStoreOptions,
  memcachedStoreSchema,
  type ParsedMemcachedOptions,
  parseMemcachedOptions,
} from './options.js';
import { type MemcachedTier, memcachedTieredStore } from './tiered.js';

export type { BreakerState } from '../../internal/breaker.js';
export {
  type MemcachedSignerOption,
  MemcachedStore,
  type MemcachedUnavailableReason,
} from './memcached-store.js';
export { type MemcachedStoreOptions, memcachedStoreSchema } from './options.js';
export { MemcachedTier } from './tiered.js';

function build(
  parsed: ParsedMemcachedOptions,
  signer: MessageSigner | undefined,
): MemcachedStore | TieredStore<MemcachedTier> {
  return parsed.l1 === undefined
    ? new MemcachedStore({ ...parsed, signer })
    : memcachedTieredStore(parsed, signer);
}

/**
 * The `memcached` store's descriptor. In an app the key prefix defaults to `"<app name>:cache:"`, and with
 * auth on its entries are signed. With `l1` it builds a tiered store (type `tiered`) over memcached.
 */
export const memcachedStoreDriver = defineDriver({
  type: 'memcached',
  schema: memcachedStoreSchema,
  create: (options, context: CacheStoreContext) =>
    build(
      parseMemcachedOptions(
        { ...options, prefix: options.prefix ?? context.keyPrefix },
        'the memcached cache store',
      ),
      context.signer,
    ),
});

/**
 * Creates a `memcached` store; with `l1`, a tiered store over memcached (L1 memory in each process,
 * invalidations on the Redis channel of `invalidation`). Nothing connects until `connect()`. Throws
 * `CACHE_OPTIONS_INVALID` naming a bad option.
 *
 * @example
 * const cache = createCache({ store: memcachedStore({ servers: ['127.0.0.1:11211'], prefix: 'shop:cache:' }) });
 * await cache.connect();
 */
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption & { readonly l1?: undefined },
): MemcachedStore;
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption,
): MemcachedStore | TieredStore<MemcachedTier>;
export function memcachedStore(
  options: MemcachedStoreOptions & MemcachedSignerOption,
): MemcachedStore | TieredStore<MemcachedTier> {
  const { signer, ...rest } = options;
  return build(parseMemcachedOptions(rest, 'memcachedStore(options)'), signer);
}
