/**
 * @blueprint/cache/testing — the store conformance suite (vitest) and a chaos wrapper that makes a
 * store fail or lag on demand.
 */
export {
  type CacheStoreConformanceOptions,
  describeCacheStoreConformance,
} from './cache-store-conformance.js';
export { ChaosStore, chaosStore } from './chaos-store.js';
