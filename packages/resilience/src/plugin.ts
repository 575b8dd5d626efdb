/**
 * `resiliencePlugin()`: joins an app. It owns the topology section `policies` (policies of remote
 * contract calls), applies the decorators of service implementations and providers, registers the
 * process's {@link BreakerRegistry}, adds a readiness check per breaker and disposes everything on stop.
 */
import { definePlugin, type Plugin } from '@blueprint/core/plugin';
import { BreakerRegistry, ResilienceTokens } from './breaker-registry.js';
import { ResilienceInstruments } from './instruments.js';
import { type RemoteFallbackHandler, ResiliencePolicies } from './internal/policy-link.js';
import {
  checkFallbackKeys,
  POLICIES_RENAMED_KEYS,
  type PoliciesConfig,
  policiesIssues,
  policiesSectionSchema,
} from './policies-config.js';

/** A fallback for a remote method: the error, the call's input and context; returns the substitute. */
export type RemoteFallback = RemoteFallbackHandler;

/** Options of {@link resiliencePlugin}. */
export interface ResiliencePluginOptions {
  /**
   * Substitutes for remote methods by `"service.method"`, used when the call fails with a failure
   * (`CIRCUIT_OPEN`, `TIMEOUT`, `REMOTE_UNAVAILABLE`, `BULKHEAD_REJECTED`, `RETRY_EXHAUSTED`, 5xx, also
   * when relayed by the service), not with an answer below 500 (see `shouldFallback`). Outermost: it also covers a rejection by the bulkhead. Default: none.
   *
   * @example
   * resiliencePlugin({ fallbacks: { 'recommendations.forUser': () => [] } })
   */
  readonly fallbacks?: Readonly<Record<string, RemoteFallback>>;
  /** Add a readiness check `breaker:<name>` per breaker, not ok while the breaker is open. Default true. */
  readonly readinessChecks?: boolean;
}

/**
 * The resilience plugin.
 *
 * It adds one link to core's call chain, at the `policy` stage (after validation, context and
 * observability; before interceptors such as the cache, and the transport):
 *
 * - **Remote calls** (`entry: 'call'`, `placement: 'remote'`): the topology's `policies` apply, from the
 *   outside in: fallback → bulkhead (per service) → deadline → retry (idempotent methods only, budget per
 *   service) → circuit breaker (per service) → per-attempt timeout (its signal and deadline reach the RPC
 *   client). In a monolith there are no remote calls, so the same code runs without breakers.
 * - **Decorated methods** (`entry: 'method'`: hosted service implementations and provider classes): the
 *   policies of `@CircuitBreaker`, `@Retry`, `@Timeout`, `@Bulkhead`, `@Fallback`, one set per instance
 *   and method.
 * - **Operators**: `app.resolve(ResilienceTokens.BreakerRegistry)` lists every breaker; readiness has a
 *   `breaker:<name>` check per breaker; the process's metrics have `blueprint_breaker_state`,
 *   `blueprint_breaker_rejections_total`, `blueprint_retries_total` and
 *   `blueprint_bulkhead_rejections_total`; a breaker that opens logs a `warn` line, one that closes an
 *   `info` line.
 *
 * @example
 * export const app = defineApp({ name: 'shop', services: [...], plugins: [resiliencePlugin()] });
 */
export function resiliencePlugin(options: ResiliencePluginOptions = {}): Plugin<PoliciesConfig> {
  const fallbacks = options.fallbacks ?? {};
  return definePlugin<PoliciesConfig>({
    name: 'resilience',
    section: {
      key: 'policies',
      schema: policiesSectionSchema,
      renamedKeys: POLICIES_RENAMED_KEYS,
      check: (config, app) =>
        policiesIssues(
          config,
          app.services.map((s) => s.contract),
        ),
    },
    setup(ctx) {
      const contracts = ctx.app.services.map((s) => s.contract);
      checkFallbackKeys(Object.keys(fallbacks), contracts);
      const registry = new BreakerRegistry();
      ctx.container.register(ResilienceTokens.BreakerRegistry, { useValue: registry });
      const policies = new ResiliencePolicies({
        config: ctx.config,
        registry,
        fallbacks,
        instruments: new ResilienceInstruments(ctx.telemetry, registry),
        addHealthCheck:
          options.readinessChecks === false ? undefined : (name, check) => ctx.addHealthCheck(name, check),
      });
      if (ctx.topology.rpc.type !== 'local') {
        const hosted = new Set(ctx.process.services);
        for (const contract of contracts) {
          if (!hosted.has(contract.name) && contract.methodNames.length > 0)
            policies.prepareRemoteService(contract);
        }
      }
      ctx.addLink(policies.link);
      ctx.onStop(() => policies.dispose());
    },
  });
}
