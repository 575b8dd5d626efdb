/**
 * `cachePlugin()`: joins an app. It owns the topology section `cache`, registers the process's
 * {@link Cache} under `CacheTokens.Cache`, adds the link that applies `@Cached` / `@CacheInvalidate` to
 * service implementations and providers, connects on start, closes on stop, and reports the store's
 * server in readiness. With `auth` in the topology, the entries a store writes to a shared server (and
 * a tiered store's invalidation messages) are signed with a key derived from the topology's secret, and
 * what is read without a valid signature is a miss.
 */
import type { InjectionToken, Telemetry } from '@blueprint/core';
import { definePlugin, messageSigner, type Plugin } from '@blueprint/core/plugin';
import { Cache, type CacheOptions } from './cache.js';
import {
  BUILT_IN_CACHE_STORES,
  type CacheTopology,
  cacheSectionSchema,
  createStoreFromTopology,
  DEFAULT_CACHE_TOPOLOGY,
} from './config.js';
import { cacheDashboardSection } from './dashboard-section.js';
import { storeErrorCounter } from './instruments.js';
import { cacheLink } from './link.js';
import type { AnyCacheStoreDriver } from './transport/driver.js';
import type { CacheStore } from './transport/store.js';

/**
 * The DI tokens of this package.
 *
 * @example
 * constructor(@inject(CacheTokens.Cache) private readonly cache: Cache) {}
 */
export const CacheTokens = Object.freeze({
  /** The process's {@link Cache}. */
  Cache: Symbol.for('blueprint:cache') as InjectionToken<Cache>,
});

/** Options of {@link cachePlugin}. */
export interface CachePluginOptions {
  /** Reports store failures the cache absorbed (see `CacheOptions.onError`). Default: none. */
  readonly onError?: CacheOptions['onError'];
  /**
   * More stores the `cache` section may select, besides the built-in `memory`, `redis` and `tiered`
   * (descriptors made with core's `defineDriver`; see the README's "Writing a store"). Default: none.
   */
  readonly stores?: readonly AnyCacheStoreDriver[] | undefined;
  /**
   * Builds the store instead of the section's descriptor (tests, wrapped stores). Receives the parsed
   * section (or the default) and the app name.
   */
  readonly store?:
    | ((config: CacheTopology, context: { appName: string }) => CacheStore | Promise<CacheStore>)
    | undefined;
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
  const drivers = [...BUILT_IN_CACHE_STORES, ...(options.stores ?? [])];
  return definePlugin<CacheTopology>({
    name: 'cache',
    section: { key: 'cache', schema: cacheSectionSchema(drivers) },
    async setup(context) {
      const config = context.config ?? DEFAULT_CACHE_TOPOLOGY;
      const appName = context.app.name;
      const signer = messageSigner(context.topology, 'cache');
      const store = await (options.store === undefined
        ? createStoreFromTopology(config, { appName, signer }, drivers)
        : options.store(config, { appName }));
      const cache = new Cache({ store, onError: withErrorCounter(context.telemetry, options.onError) });
      context.container.register(CacheTokens.Cache, { useValue: cache });
      context.addLink(cacheLink(cache, { telemetry: context.telemetry }));
      context.onStart(() => cache.connect());
      context.onStop(() => cache.close());
      context.addDashboardSection('cache', cacheDashboardSection(cache, store.type, context.telemetry));
      if (store.health !== undefined) {
        context.addHealthCheck(store.healthCheckName ?? `${store.type}:cache`, () => cache.health(), {
          kind: 'dependency',
        });
      }
    },
  });
}

/** Counts absorbed store failures in the process's metrics, then calls the user's hook. */
function withErrorCounter(telemetry: Telemetry, onError: CacheOptions['onError']): CacheOptions['onError'] {
  const countError = storeErrorCounter(telemetry);
  if (countError === undefined) return onError;
  return (error, where) => {
    countError(error, where);
    onError?.(error, where);
  };
}
