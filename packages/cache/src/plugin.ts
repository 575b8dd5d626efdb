/**
 * `cachePlugin()`: joins an app. It owns the topology section `cache`, registers the process's
 * {@link Cache} under {@link CacheToken}, applies `@Cached` / `@CacheInvalidate` to service
 * implementations and providers, connects on start, closes on stop, and reports Redis in readiness.
 */
import { definePlugin, type InjectionToken, type Plugin } from '@blueprint/core';
import { Cache, type CacheOptions } from './cache.js';
import {
  type CacheTopology,
  cacheTopologySchema,
  createStoreFromTopology,
  DEFAULT_CACHE_TOPOLOGY,
} from './config.js';
import { storeErrorCounter } from './instruments.js';
import { cacheInterceptor } from './interceptor.js';
import type { CacheStore } from './store.js';

/**
 * The token of the process's cache.
 *
 * @example
 * constructor(@inject(CacheToken) private readonly cache: Cache) {}
 */
export const CacheToken = Symbol.for('blueprint:cache') as InjectionToken<Cache>;

/** Options of {@link cachePlugin}. */
export interface CachePluginOptions {
  /** Reports store failures the cache absorbed (see `CacheOptions.onError`). Default: none. */
  readonly onError?: CacheOptions['onError'];
  /**
   * Builds the store instead of the topology's `cache` section (tests, custom stores). Receives the
   * parsed section (or the default) and the app name.
   */
  readonly store?: ((config: CacheTopology, context: { appName: string }) => CacheStore) | undefined;
}

/**
 * The cache plugin. Without a `cache` section in the topology, each process gets a memory store.
 * Decorated methods are measured in the process's metrics (`blueprint_cache_requests_total`,
 * `blueprint_cache_loads_total`, `blueprint_cache_load_duration_seconds`, and
 * `blueprint_cache_store_errors_total`) and each loader run is a `cache load` span.
 *
 * @example
 * export const app = defineApp({ name: 'shop', services: [...], plugins: [cachePlugin()] });
 * // topology: "cache": { "type": "tiered", "url": "${REDIS_URL:-redis://127.0.0.1:6379}" }
 */
export function cachePlugin(options: CachePluginOptions = {}): Plugin<CacheTopology> {
  return definePlugin<CacheTopology>({
    name: 'cache',
    section: { key: 'cache', schema: cacheTopologySchema },
    setup(context) {
      const config = context.config ?? DEFAULT_CACHE_TOPOLOGY;
      const build = options.store ?? createStoreFromTopology;
      const store = build(config, { appName: context.app.name });
      const countError = storeErrorCounter(context.telemetry);
      const userOnError = options.onError;
      const onError: CacheOptions['onError'] =
        countError === undefined
          ? userOnError
          : (error, where) => {
              countError(error, where);
              userOnError?.(error, where);
            };
      const cache = new Cache({ store, onError });
      context.container.register(CacheToken, { useValue: cache });
      context.addInterceptor(cacheInterceptor(cache, { telemetry: context.telemetry }));
      context.onStart(() => cache.connect());
      context.onStop(() => cache.close());
      if (store.health !== undefined) context.addHealthCheck('redis:cache', () => cache.health());
    },
  });
}
