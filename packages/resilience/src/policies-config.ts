/**
 * The topology's `policies` section: which resilience policies wrap remote contract calls, by default
 * and per service (`"payments"`) or per method (`"products.reserve"`). Durations read like the rest of
 * the topology (`"250ms"`, `"2s"`); `false` turns a policy off at that level.
 *
 * ```json
 * "policies": {
 *   "default":  { "timeout": "2s", "deadline": "5s", "retry": { "maxAttempts": 3, "backoff": { "initial": "50ms" } }, "breaker": { "failureRate": 50 } },
 *   "services": {
 *     "payments":         { "breaker": { "consecutiveFailures": 5, "halfOpenAfter": "5s" }, "bulkhead": { "maxConcurrent": 32 } },
 *     "products.reserve": { "timeout": "500ms" },
 *     "search":           { "retry": false }
 *   }
 * }
 * ```
 */

import { type AnyContract, AppDefinitionError, TopologyError, type TopologyIssue } from '@blueprint/core';
import { type Backoff, backoffSchema, didYouMean } from '@blueprint/core/plugin';
import { z } from 'zod';
import { bulkheadOptionFields } from './bulkhead.js';
import { breakerOptionFields } from './circuit-breaker.js';
import { durationOrOff, orOff } from './internal/option-schemas.js';
import { retryOptionFields } from './retry.js';
import { budgetOptionFields } from './retry-budget.js';
import { timeoutSchema } from './timeout.js';

/** `breaker`: one circuit breaker per remote service; the options and checks of `circuitBreaker()`. */
const breakerConfigSchema = z.strictObject({
  /** Opens when more than this percentage of the window's calls failed; `false` disables the rule. Default 50. */
  failureRate: breakerOptionFields.failureRate.optional(),
  /** Calls the window must hold before `failureRate` is judged. Default 10. */
  minimumCalls: breakerOptionFields.minimumCalls.optional(),
  /** Opens after this many failures in a row; `false` disables the rule. Default `false`. */
  consecutiveFailures: breakerOptionFields.consecutiveFailures.optional(),
  /** Rolling window of counts. Default `"10s"`. */
  window: breakerOptionFields.window.optional(),
  /** How long the breaker stays open before one probe call goes through. Default `"10s"`. */
  halfOpenAfter: breakerOptionFields.halfOpenAfter.optional(),
});

/** `retry.budget`: caps the extra load of retries, per remote service; the options of `retryBudget()`. */
const budgetConfigSchema = z.strictObject({
  /** Retries per call over the window: 0.2 = at most 20% extra load. Default 0.2. */
  ratio: budgetOptionFields.ratio.optional(),
  /** Retries always allowed per window, even with few calls. Default 10. */
  minRetries: budgetOptionFields.minRetries.optional(),
  /** Sliding window. Default `"10s"`. */
  window: budgetOptionFields.window.optional(),
});

/** `retry`: applies to idempotent methods only (`idempotent: true` in the contract). */
const retryConfigSchema = z.strictObject({
  /** Attempts in total, the first included. Default 3. */
  maxAttempts: retryOptionFields.maxAttempts.optional(),
  /**
   * Waits between attempts, core's backoff shape: `{ "initial", "max", "factor", "jitter" }` (default
   * `{ "initial": "100ms", "max": "2s", "factor": 2, "jitter": "full" }`) or a list of delays.
   */
  backoff: backoffSchema.optional(),
  /** The service's retry budget, or `false` for none. Default `{ "ratio": 0.2, "minRetries": 10, "window": "10s" }`. */
  budget: orOff(budgetConfigSchema, 'an object of retry budget options').optional(),
});

/** `bulkhead`: a concurrency limit per remote service; the options of `bulkhead()`. */
const bulkheadConfigSchema = z.strictObject({
  /** Calls to the service in flight at once. Required where the bulkhead is first enabled. */
  maxConcurrent: bulkheadOptionFields.maxConcurrent.optional(),
  /** Calls waiting for a slot; beyond it calls fail at once. Default 0. */
  maxQueue: bulkheadOptionFields.maxQueue.optional(),
  /** Longest wait for a slot. Default: none. */
  maxWait: bulkheadOptionFields.maxWait.optional(),
});

/** The policies of one level (default, a service, a method). */
const policySetSchema = z.strictObject({
  /** Per-attempt timeout; its `AbortSignal` and deadline reach the RPC client. Default: off (the rpc timeout applies). */
  timeout: durationOrOff(timeoutSchema).optional(),
  /** Total deadline of a call across its retries. Default: off. */
  deadline: durationOrOff(timeoutSchema).optional(),
  /** Retry of idempotent methods. Default on: 3 attempts, backoff from 100 ms to 2 s with full jitter, budget 20%. */
  retry: orOff(retryConfigSchema, 'an object of retry options').optional(),
  /** Circuit breaker per service. Default on: opens above 50% failures of at least 10 calls in 10 s, probes after 10 s. */
  breaker: orOff(breakerConfigSchema, 'an object of breaker options').optional(),
  /** Concurrency limit per service. Default: off. */
  bulkhead: orOff(bulkheadConfigSchema, 'an object of bulkhead options').optional(),
});

const SERVICE_KEY = /^[a-z][a-z0-9-]*(\.[a-zA-Z_][a-zA-Z0-9_]*)?$/;
const PER_SERVICE = ['breaker', 'bulkhead'] as const;

/** The `policies` section of the topology: owned by `resiliencePlugin()`. */
export const policiesSectionSchema = z.strictObject({
  /** Policies of every remote call. */
  default: policySetSchema.optional(),
  /** Overrides by service (`"payments"`) or method (`"products.reserve"`); a method's keys win over its service's. */
  services: z
    .record(
      z.string().regex(SERVICE_KEY, 'use a service name ("payments") or service.method ("products.reserve")'),
      policySetSchema,
    )
    .superRefine((services, ctx) => {
      for (const [key, set] of Object.entries(services)) {
        const dot = key.indexOf('.');
        if (dot === -1) continue;
        const service = key.slice(0, dot);
        for (const field of PER_SERVICE) {
          if (set[field] !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [key, field],
              message: `${field} is shared by all methods of a service; move it to "services.${service}"`,
            });
          }
        }
        if (set.retry && set.retry.budget !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key, 'retry', 'budget'],
            message: `the retry budget is shared by all methods of a service; move it to "services.${service}.retry.budget"`,
          });
        }
      }
    })
    .optional(),
});

/**
 * Keys of the section that were renamed, old → new: an old topology file gets an error naming the new
 * key (`"baseDelay" was renamed: write "backoff.initial" instead`).
 */
export const POLICIES_RENAMED_KEYS: Readonly<Record<string, string>> = Object.freeze({
  baseDelay: 'backoff.initial',
  maxDelay: 'backoff.max',
  jitter: 'backoff.jitter',
});

/** The parsed `policies` section. */
export type PoliciesConfig = z.output<typeof policiesSectionSchema>;
/** The parsed policies of one level. */
export type PolicySetConfig = z.output<typeof policySetSchema>;

type BreakerConfig = z.output<typeof breakerConfigSchema>;
type BudgetConfig = z.output<typeof budgetConfigSchema>;
/**
 * The retry keys of a level. Parsed values never hold `undefined` (zod leaves absent keys out), so they
 * are what `retry()` takes.
 */
interface RetryConfig {
  readonly maxAttempts?: number;
  readonly backoff?: Backoff;
}
type BulkheadConfig = z.output<typeof bulkheadConfigSchema>;

/** A bulkhead whose `maxConcurrent` is known. */
export type ResolvedBulkhead = BulkheadConfig & { readonly maxConcurrent: number };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges the levels of one policy, least specific first. Keys merge one by one (and so do the keys of a
 * nested object such as `backoff`); `false` turns the policy off, and a later object turns it on again
 * from the policy's own defaults. Keys left out take the defaults of the policy's factory.
 */
function mergeLayers<T extends object>(
  initial: T | false,
  layers: readonly (T | false | undefined)[],
): T | false {
  let current = initial;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer === false) {
      current = false;
      continue;
    }
    const merged: Record<string, unknown> = { ...(current === false ? {} : current) };
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const previous = merged[key];
      merged[key] = isPlainObject(previous) && isPlainObject(value) ? { ...previous, ...value } : value;
    }
    current = merged as T;
  }
  return current;
}

function lastDefined<T>(layers: readonly (T | undefined)[], base: T): T {
  let current = base;
  for (const layer of layers) if (layer !== undefined) current = layer;
  return current;
}

/** Policies that are shared by all methods of a remote service; the options of their factories. */
export interface ServicePolicyConfig {
  /** The service's breaker, or false. */
  readonly breaker: BreakerConfig | false;
  /** The service's bulkhead, or false. */
  readonly bulkhead: ResolvedBulkhead | false;
  /** The service's retry budget, or false. */
  readonly budget: BudgetConfig | false;
}

/** Policies of one remote method. */
export interface MethodPolicyConfig {
  /** Per-attempt timeout, ms, or false. */
  readonly timeout: number | false;
  /** Total deadline, ms, or false. */
  readonly deadline: number | false;
  /** The options of `retry()`; false when retry is off or the method is not idempotent. */
  readonly retry: RetryConfig | false;
}

/** Resolves the per-service policies of `service` from `default` and `services[service]`. */
export function resolveServicePolicies(
  config: PoliciesConfig | undefined,
  service: string,
): ServicePolicyConfig {
  const layers = [config?.default, config?.services?.[service]];
  const breaker = mergeLayers<BreakerConfig>(
    {},
    layers.map((l) => l?.breaker),
  );
  const bulkhead = mergeLayers<BulkheadConfig>(
    false,
    layers.map((l) => l?.bulkhead),
  );
  if (bulkhead !== false && bulkhead.maxConcurrent === undefined) {
    throw new TopologyError(
      `topology.policies: the bulkhead of service "${service}" has no maxConcurrent; set it in policies.default.bulkhead or policies.services.${service}.bulkhead`,
    );
  }
  const budget = mergeLayers<BudgetConfig>(
    {},
    layers.map((l) => (l?.retry ? l.retry.budget : undefined)),
  );
  return { breaker, bulkhead: bulkhead as ResolvedBulkhead | false, budget };
}

/** Resolves the policies of one method: `default`, `services[service]`, `services["service.method"]`. */
export function resolveMethodPolicies(
  config: PoliciesConfig | undefined,
  service: string,
  method: string,
  idempotent: boolean,
): MethodPolicyConfig {
  const layers = [config?.default, config?.services?.[service], config?.services?.[`${service}.${method}`]];
  const retry = mergeLayers<RetryConfig>(
    {},
    layers.map((l): RetryConfig | false | undefined => {
      if (l?.retry === undefined || l.retry === false) return l?.retry;
      const { budget: _budget, ...rest } = l.retry;
      return rest as RetryConfig;
    }),
  );
  return {
    timeout: lastDefined<number | false>(
      layers.map((l) => l?.timeout),
      false,
    ),
    deadline: lastDefined<number | false>(
      layers.map((l) => l?.deadline),
      false,
    ),
    retry: idempotent ? retry : false,
  };
}

/**
 * The problems of the keys of `policies.services` against the app's contracts: an unknown service or
 * method, or a retry set on a method that is not idempotent, each naming the key and the fix. The
 * plugin's section check: they are reported with the topology's own problems, in one report.
 */
export function policiesIssues(
  config: PoliciesConfig | undefined,
  contracts: readonly AnyContract[],
): TopologyIssue[] {
  const byName = new Map(contracts.map((c) => [c.name, c]));
  const issues: TopologyIssue[] = [];
  for (const [key, set] of Object.entries(config?.services ?? {})) {
    const path = `topology.policies.services.${key}`;
    const [service, method] = key.split('.') as [string, string | undefined];
    const contract = byName.get(service);
    if (contract === undefined) {
      issues.push({
        path,
        message: `unknown service "${service}"${didYouMean(service, byName.keys())}; the app has: ${[...byName.keys()].join(', ')}`,
      });
      continue;
    }
    if (method === undefined) continue;
    const definition = contract.methods[method];
    if (definition === undefined) {
      issues.push({
        path,
        message: `service "${service}" has no method "${method}"${didYouMean(method, contract.methodNames)}; it has: ${contract.methodNames.join(', ')}`,
      });
      continue;
    }
    if (set.retry && definition.idempotent !== true) {
      issues.push({
        path: `${path}.retry`,
        message: `"${key}" is not idempotent, and a failed call may already have run; mark it "idempotent: true" in the contract if running it twice is safe, or remove the retry`,
      });
    }
  }
  return issues;
}

/** Checks the keys of the plugin's `fallbacks` option against the app's contracts. */
export function checkFallbackKeys(keys: readonly string[], contracts: readonly AnyContract[]): void {
  const byName = new Map(contracts.map((c) => [c.name, c]));
  for (const key of keys) {
    const [service, method] = key.split('.') as [string, string | undefined];
    const contract = byName.get(service);
    if (contract === undefined || method === undefined || contract.methods[method] === undefined) {
      throw new AppDefinitionError(
        `resiliencePlugin({ fallbacks }): "${key}" is not a method of the app; use "service.method", e.g. "${contracts[0]?.name ?? 'products'}.${contracts[0]?.methodNames[0] ?? 'get'}"`,
      );
    }
  }
}
