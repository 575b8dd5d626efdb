/**
 * @blueprint/cache/testing — the store conformance suite (vitest) and a chaos wrapper that makes a
 * store fail or lag on demand.
 */
export { ChaosStore, chaosStore } from './chaos-store.js';
export { type StoreConformanceOptions, storeConformanceSuite } from './store-conformance.js';
