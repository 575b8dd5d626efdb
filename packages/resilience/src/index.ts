/**
 * @blueprint/resilience — circuit breaker, retry, timeout, bulkhead and fallback: as values composed
 * with `wrap`, as decorators, and as topology policies on remote contract calls (one link of core's
 * call chain, at the `policy` stage).
 *
 * Test helpers live under `@blueprint/resilience/testing`.
 */
export type {
  CircuitBreakerPolicy,
  CircuitBreakerStats,
  CircuitState,
  CircuitStateChange,
} from './breaker-policy.js';
export { BreakerRegistry, ResilienceTokens } from './breaker-registry.js';
export { type BulkheadOptions, type BulkheadPolicy, bulkhead } from './bulkhead.js';
export { type CircuitBreakerOptions, circuitBreaker } from './circuit-breaker.js';
export {
  Bulkhead,
  CircuitBreaker,
  type CircuitBreakerDecoratorOptions,
  Fallback,
  type FallbackDecoratorOptions,
  type FallbackMethod,
  Retry,
  Timeout,
} from './decorators.js';
export * from './errors.js';
export { type FallbackHandler, type FallbackOptions, fallback } from './fallback.js';
export { BREAKER_STATE_VALUES, RESILIENCE_METRICS } from './instruments.js';
export { type RemoteFallback, type ResiliencePluginOptions, resiliencePlugin } from './plugin.js';
export { type PoliciesConfig, type PolicySetConfig, policiesSectionSchema } from './policies-config.js';
export { type Policy, type PolicyContext, type PolicyTask, type WrappedPolicy, wrap } from './policy.js';
export { type RetryEvent, type RetryOptions, type RetryPolicy, retry } from './retry.js';
export {
  type RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
  retryBudget,
} from './retry-budget.js';
export { type TimeoutOptions, type TimeoutPolicy, timeout } from './timeout.js';
