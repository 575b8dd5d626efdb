/**
 * The `memcached` store's descriptor, apart from its code: the store's modules are imported only when a
 * topology selects `memcached`.
 */
import { defineDriver } from '@blueprint/core/transport';
import type { CacheStoreContext } from '../../transport/driver.js';
import { memcachedStoreSchema, parseMemcachedOptions } from './options.js';

/**
 * The `memcached` store's descriptor. In an app the key prefix defaults to `"<app name>:cache:"`, and with
 * auth on its entries are signed. With `l1` it builds a tiered store (type `tiered`) over memcached.
 */
export const memcachedStoreDriver = defineDriver({
  type: 'memcached',
  schema: memcachedStoreSchema,
  create: async (options, context: CacheStoreContext) => {
    const parsed = parseMemcachedOptions(
      { ...options, prefix: options.prefix ?? context.keyPrefix },
      'the memcached cache store',
    );
    const { buildMemcachedStore } = await import('./build.js');
    return buildMemcachedStore(parsed, context.signer);
  },
});
