/**
 * The `tiered` store's descriptor, apart from its code: `./tiered-store.js` is imported only when a
 * topology selects `tiered`.
 */
import { sharedStoreDriver } from '../../transport/driver.js';
import { tieredStoreSchema } from './options.js';

/**
 * The `tiered` store's descriptor. In an app the key prefix defaults to `"<app name>:cache:"`, and with
 * auth on its L2 entries and invalidation messages are signed.
 */
export const tieredStoreDriver = sharedStoreDriver(
  'tiered',
  tieredStoreSchema,
  async () => (await import('./tiered-store.js')).TieredStore,
);
