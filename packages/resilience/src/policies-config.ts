/**
 * The topology's `policies` section: which resilience policies wrap remote contract calls, by default
 * and per service (`"payments"`) or per method (`"products.reserve"`). Durations read like the rest of
 * the topology (`"250ms"`, `"2s"`); `false` turns a policy off at that level.
 *
 * ```json
 * "policies": {
 *   "default":  { "timeout": "2s", "deadline": "5s", "retry": { "maxAttempts": 3 }, "breaker": { "failureRate": 50 } },
 *   "services": {
 *     "payments":         { "breaker": { "consecutiveFailures": 5, "halfOpenAfter": "5s" }, "bulkhead": { "maxConcurrent": 32 } },
 *     "products.reserve": { "timeout": "500ms" },
 *     "search":           { "retry": false }
 *   }
 * }
 * ```
 */

import type { AnyContract } from '@blueprint/core';
import {
  AppDefinitionError,
  countSchema,
  durationSchema,
  parseDuration,
  TopologyError,
} from '@blueprint/core';
import { z } from 'zod';

const off = z.literal(false);

/** A duration, or `false` to turn the policy off at this level. */
const durationOrOff = z.union([z.literal(false), z.number(), z.string()]).transform((value, ctx) => {
  if (value === false) return false as const;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid duration ${JSON.stringify(value)}: write milliseconds as a number or a string like "250ms", "2s", or false to turn it off`,
    });
    return z.NEVER;
  }
  return ms;
});

const objectOrOff = <T extends z.ZodType>(schema: T, what: string) =>
  z.union([off, schema], { error: `use an object of ${what} options, or false to turn it off` });

const percent = z
  .number({ error: 'use a percentage, e.g. 50' })
  .gt(0, 'use a percentage above 0 and at most 100, e.g. 50')
  .max(100, 'use a percentage above 0 and at most 100, e.g. 50');

const atLeastOne = (what: string) => countSchema.pipe(z.number().min(1, `${what} must be at least 1`));

/** `breaker`: one circuit breaker per remote service. */
export const breakerConfigSchema = z.strictObject({
  /** Opens when more than this percentage of the window's calls failed; `false` disables the rule. Default 50. */
  failureRate: z.union([off, percent]).optional(),
  /** Calls the window must hold before `failureRate` is judged. Default 10. */
  minimumCalls: countSchema.optional(),
  /** Opens after this many failures in a row; `false` disables the rule. Default `false`. */
  consecutiveFailures: z.union([off, atLeastOne('consecutiveFailures')]).optional(),
  /** Rolling window of counts. Default `"10s"`. */
  window: durationSchema.optional(),
  /** How long the breaker stays open before one probe call goes through. Default `"10s"`. */
  halfOpenAfter: durationSchema.optional(),
});

/** `retry.budget`: caps the extra load of retries, per remote service. */
export const budgetConfigSchema = z.strictObject({
  /** Retries per call over the window: 0.2 = at most 20% extra load. Default 0.2. */
  ratio: z.number().min(0, 'ratio must be >= 0, e.g. 0.2').max(1000).optional(),
  /** Retries always allowed per window, even with few calls. Default 10. */
  minRetries: countSchema.optional(),
  /** Sliding window. Default `"10s"`. */
  window: durationSchema.optional(),
});

/** `retry`: applies to idempotent methods only (`idempotent: true` in the contract). */
export const retryConfigSchema = z.strictObject({
  /** Attempts in total, the first included. Default 3. */
  maxAttempts: atLeastOne('maxAttempts').optional(),
  /** Ceiling of the first retry's delay, doubling per retry. Default `"100ms"`. */
  baseDelay: durationSchema.optional(),
  /** Largest delay. Default `"2s"`. */
  maxDelay: durationSchema.optional(),
  /** `"full"` (random delay up to the ceiling, default) or `"none"`. */
  jitter: z.enum(['full', 'none']).optional(),
  /** The service's retry budget, or `false` for none. Default `{ "ratio": 0.2, "minRetries": 10, "window": "10s" }`. */
  budget: objectOrOff(budgetConfigSchema, 'retry budget').optional(),
});

/** `bulkhead`: a concurrency limit per remote service. */
export const bulkheadConfigSchema = z.strictObject({
  /** Calls to the service in flight at once. Required where the bulkhead is first enabled. */
  maxConcurrent: atLeastOne('maxConcurrent').optional(),
  /** Calls waiting for a slot; beyond it calls fail at once. Default 0. */
  maxQueue: countSchema.optional(),
  /** Longest wait for a slot. Default: none. */
  maxWait: durationSchema.optional(),
});

/** The policies of one level (default, a service, a method). */
export const policySetSchema = z.strictObject({
  /** Per-attempt timeout; its `AbortSignal` and deadline reach the RPC client. Default: off (the rpc timeout applies). */
  timeout: durationOrOff.optional(),
  /** Total deadline of a call across its retries. Default: off. */
  deadline: durationOrOff.optional(),
  /** Retry of idempotent methods. Default on: 3 attempts, 100 ms base, 2 s cap, full jitter, budget 20%. */
  retry: objectOrOff(retryConfigSchema, 'retry').optional(),
  /** Circuit breaker per service. Default on: opens above 50% failures of at least 10 calls in 10 s, probes after 10 s. */
  breaker: objectOrOff(breakerConfigSchema, 'breaker').optional(),
  /** Concurrency limit per service. Default: off. */
  bulkhead: objectOrOff(bulkheadConfigSchema, 'bulkhead').optional(),
});

const SERVICE_KEY = /^[a-z][a-z0-9-]*(\.[a-zA-Z_][a-zA-Z0-9_]*)?$/;
const PER_SERVICE = ['breaker', 'bulkhead'] as const;

/** The `policies` section of the topology. */
export const policiesSchema = z.strictObject({
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

/** The parsed `policies` section. */
export type PoliciesConfig = z.output<typeof policiesSchema>;
/** The parsed policies of one level. */
export type PolicySetConfig = z.output<typeof policySetSchema>;

/** Resolved breaker options (durations in ms); see {@link breakerConfigSchema}. */
export interface ResolvedBreaker {
  /** Failure percentage that opens it, or false. */
  readonly failureRate: number | false;
  /** Calls needed before the rate is judged. */
  readonly minimumCalls: number;
  /** Failures in a row that open it, or false. */
  readonly consecutiveFailures: number | false;
  /** Rolling window, ms. */
  readonly window: number;
  /** Open period before a probe, ms. */
  readonly halfOpenAfter: number;
}
/** Resolved retry budget options; see {@link budgetConfigSchema}. */
export interface ResolvedBudget {
  /** Retries per call. */
  readonly ratio: number;
  /** Retries always allowed per window. */
  readonly minRetries: number;
  /** Sliding window, ms. */
  readonly window: number;
}
/** Resolved retry options; see {@link retryConfigSchema}. */
export interface ResolvedRetry {
  /** Attempts in total. */
  readonly maxAttempts: number;
  /** First delay ceiling, ms. */
  readonly baseDelay: number;
  /** Delay cap, ms. */
  readonly maxDelay: number;
  /** Jitter mode. */
  readonly jitter: 'full' | 'none';
}
/** Resolved bulkhead options; see {@link bulkheadConfigSchema}. */
export interface ResolvedBulkhead {
  /** Calls in flight at once. */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot. */
  readonly maxQueue: number;
  /** Longest wait, ms, or none. */
  readonly maxWait: number | undefined;
}

/** Built-in defaults of remote calls, used where the topology says nothing. */
export const DEFAULT_REMOTE_POLICIES = Object.freeze({
  timeout: false,
  deadline: false,
  retry: Object.freeze({ maxAttempts: 3, baseDelay: 100, maxDelay: 2_000, jitter: 'full' }),
  budget: Object.freeze({ ratio: 0.2, minRetries: 10, window: 10_000 }),
  breaker: Object.freeze({
    failureRate: 50,
    minimumCalls: 10,
    consecutiveFailures: false,
    window: 10_000,
    halfOpenAfter: 10_000,
  }),
  bulkhead: false,
} as const);

type Layer<T> = T | false | undefined;
type Loose<T> = { [K in keyof T]?: T[K] | undefined };

function mergeLayers<T extends object>(
  base: T | false,
  fallbackBase: T,
  layers: readonly Layer<Loose<T>>[],
): T | false {
  let current: T | false = base;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer === false) current = false;
    else current = { ...(current === false ? fallbackBase : current), ...stripUndefined(layer) };
  }
  return current;
}

function stripUndefined<T extends object>(value: Loose<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, item] of Object.entries(value))
    if (item !== undefined) (out as Record<string, unknown>)[key] = item;
  return out;
}

function lastDefined<T>(layers: readonly (T | undefined)[], base: T): T {
  let current = base;
  for (const layer of layers) if (layer !== undefined) current = layer;
  return current;
}

/** Policies that are shared by all methods of a remote service. */
export interface ServicePolicyConfig {
  /** The service's breaker, or false. */
  readonly breaker: ResolvedBreaker | false;
  /** The service's bulkhead, or false. */
  readonly bulkhead: ResolvedBulkhead | false;
  /** The service's retry budget, or false. */
  readonly budget: ResolvedBudget | false;
}

/** Policies of one remote method. */
export interface MethodPolicyConfig {
  /** Per-attempt timeout, ms, or false. */
  readonly timeout: number | false;
  /** Total deadline, ms, or false. */
  readonly deadline: number | false;
  /** False when retry is off or the method is not idempotent. */
  readonly retry: ResolvedRetry | false;
}

/** Resolves the per-service policies of `service` from the built-in defaults, `default` and `services[service]`. */
export function resolveServicePolicies(
  config: PoliciesConfig | undefined,
  service: string,
): ServicePolicyConfig {
  const layers = [config?.default, config?.services?.[service]];
  const breaker = mergeLayers<ResolvedBreaker>(
    DEFAULT_REMOTE_POLICIES.breaker,
    DEFAULT_REMOTE_POLICIES.breaker,
    layers.map((l) => l?.breaker),
  );
  const bulkhead = mergeLayers<{ maxConcurrent?: number; maxQueue: number; maxWait: number | undefined }>(
    false,
    { maxQueue: 0, maxWait: undefined },
    layers.map((l) => l?.bulkhead),
  );
  if (bulkhead !== false && bulkhead.maxConcurrent === undefined) {
    throw new TopologyError(
      `topology.policies: the bulkhead of service "${service}" has no maxConcurrent; set it in policies.default.bulkhead or policies.services.${service}.bulkhead`,
    );
  }
  const budget = mergeLayers<ResolvedBudget>(
    DEFAULT_REMOTE_POLICIES.budget,
    DEFAULT_REMOTE_POLICIES.budget,
    layers.map((l) => (l?.retry ? l.retry.budget : undefined)),
  );
  return { breaker, bulkhead: bulkhead as ResolvedBulkhead | false, budget };
}

/** Resolves the policies of one method: built-in defaults, `default`, `services[service]`, `services["service.method"]`. */
export function resolveMethodPolicies(
  config: PoliciesConfig | undefined,
  service: string,
  method: string,
  idempotent: boolean,
): MethodPolicyConfig {
  const layers = [config?.default, config?.services?.[service], config?.services?.[`${service}.${method}`]];
  const retry = mergeLayers<ResolvedRetry>(
    DEFAULT_REMOTE_POLICIES.retry,
    DEFAULT_REMOTE_POLICIES.retry,
    layers.map((l) => {
      if (!l?.retry) return l?.retry;
      const { budget: _budget, ...rest } = l.retry;
      return rest;
    }),
  );
  return {
    timeout: lastDefined(
      layers.map((l) => l?.timeout),
      DEFAULT_REMOTE_POLICIES.timeout as number | false,
    ),
    deadline: lastDefined(
      layers.map((l) => l?.deadline),
      DEFAULT_REMOTE_POLICIES.deadline as number | false,
    ),
    retry: idempotent ? retry : false,
  };
}

/**
 * Checks the keys of `policies.services` against the app's contracts: an unknown service or method,
 * or a retry set on a method that is not idempotent, is an error naming the key and the fix.
 */
export function checkPoliciesAgainstContracts(
  config: PoliciesConfig | undefined,
  contracts: readonly AnyContract[],
): void {
  const byName = new Map(contracts.map((c) => [c.name, c]));
  const problems: string[] = [];
  for (const [key, set] of Object.entries(config?.services ?? {})) {
    const [service, method] = key.split('.') as [string, string | undefined];
    const contract = byName.get(service);
    if (contract === undefined) {
      problems.push(
        `policies.services.${key}: unknown service "${service}"; the app has: ${[...byName.keys()].join(', ')}`,
      );
      continue;
    }
    if (method === undefined) continue;
    const definition = contract.methods[method];
    if (definition === undefined) {
      problems.push(
        `policies.services.${key}: service "${service}" has no method "${method}"; it has: ${contract.methodNames.join(', ')}`,
      );
      continue;
    }
    if (set.retry && definition.idempotent !== true) {
      problems.push(
        `policies.services.${key}.retry: "${key}" is not idempotent, and a failed call may already have run; mark it "idempotent: true" in the contract if running it twice is safe, or remove the retry`,
      );
    }
  }
  if (problems.length > 0) {
    throw new TopologyError(`invalid topology policies:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { issues: problems },
    });
  }
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
