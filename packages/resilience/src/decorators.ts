/**
 * Decorators: `@CircuitBreaker`, `@Retry`, `@Timeout`, `@Bulkhead`, `@Fallback`. They only record
 * metadata on the method; `resiliencePlugin()` builds the policies when the app creates an instance
 * (one set per instance and method, so two instances never share a breaker, and nothing is global).
 * They work with legacy (`experimentalDecorators`) and TC39 standard decorators alike (core's
 * `methodDecorator`), and check their options when the decorator is written.
 *
 * Whatever order the decorators are written in, a call runs through them in one fixed order, from the
 * outside in: fallback → bulkhead → retry → circuit breaker → timeout (each attempt is bounded, each
 * attempt counts in the breaker, the bulkhead counts a call once however often it is retried).
 */
import type { Duration } from '@blueprint/core';
import { type DualMethodDecorator, getMethodMetadata, methodDecorator } from '@blueprint/core/plugin';
import { type BulkheadOptions, bulkheadOptionsSchema } from './bulkhead.js';
import { type CircuitBreakerOptions, circuitBreakerDecoratorSchema } from './circuit-breaker.js';
import { ResilienceOptionsError } from './errors.js';
import { type FallbackOptions, fallbackOptionsSchema } from './fallback.js';
import { functionOf, parsePolicyOptions } from './internal/option-schemas.js';
import { type RetryOptions, retryOptionsSchema } from './retry.js';
import { timeoutSchema } from './timeout.js';

/** Breaker options of a decorator; the breaker joins the process's registry by itself. */
export type CircuitBreakerDecoratorOptions = Omit<CircuitBreakerOptions, 'registry'>;

/** Fallback of a decorator: called with the error and the method's arguments, `this` being the instance. */
export type FallbackMethod = (this: any, error: unknown, ...args: any[]) => unknown;

/** Options of {@link Fallback}: `when`, which errors are replaced (default `shouldFallback`). */
export type FallbackDecoratorOptions = FallbackOptions;

/** What the decorators of one method recorded (a subclass that overrides the method starts afresh). */
export interface DecoratedPolicies {
  /** Options of `@CircuitBreaker`. */
  readonly breaker?: CircuitBreakerDecoratorOptions;
  /** Options of `@Retry`. */
  readonly retry?: RetryOptions;
  /** Milliseconds of `@Timeout`. */
  readonly timeout?: number;
  /** Options of `@Bulkhead`. */
  readonly bulkhead?: BulkheadOptions;
  /** Handler and options of `@Fallback`. */
  readonly fallback?: { readonly handler: FallbackMethod; readonly options: FallbackDecoratorOptions };
}

/** The metadata key of the decorators (read with core's `getMethodMetadata`). */
const RESILIENCE_METADATA = 'resilience';

type Kind = 'breaker' | 'retry' | 'timeout' | 'bulkhead' | 'fallback';

function record(kind: Kind, decorator: string, value: unknown): DualMethodDecorator {
  return methodDecorator(`@${decorator}`, (site) => {
    const existing = site.read<DecoratedPolicies>(RESILIENCE_METADATA) ?? {};
    if (existing[kind] !== undefined) {
      const where = site.className === undefined ? site.method : `${site.className}.${site.method}`;
      throw new ResilienceOptionsError(`@${decorator} is used twice on ${where}; keep one`);
    }
    site.record(RESILIENCE_METADATA, Object.freeze({ ...existing, [kind]: value }));
  });
}

/** Reads the policies the decorators recorded for `instance[method]`. */
export function getDecoratedPolicies(instance: object, method: string): DecoratedPolicies | undefined {
  return getMethodMetadata<DecoratedPolicies>(instance, method, RESILIENCE_METADATA);
}

/**
 * Puts a circuit breaker around the method: one breaker per instance, named `Class.method` unless
 * `name` is given, listed in the process's breaker registry and readiness.
 *
 * @example
 * @CircuitBreaker({ consecutiveFailures: 5, halfOpenAfter: '10s' })
 * async quote(input: QuoteInput) { ... }
 */
export function CircuitBreaker(options: CircuitBreakerDecoratorOptions = {}): DualMethodDecorator {
  parsePolicyOptions(circuitBreakerDecoratorSchema, options, '@CircuitBreaker(options)');
  return record('breaker', 'CircuitBreaker', Object.freeze({ ...options }));
}

/**
 * Retries the method when it fails with a retryable error (see `retry` for options and defaults).
 * Use it only on methods that are safe to run twice.
 *
 * @example
 * @Retry({ maxAttempts: 3, backoff: { initial: '50ms' } })
 * async fetchRates() { ... }
 */
export function Retry(options: RetryOptions = {}): DualMethodDecorator {
  parsePolicyOptions(retryOptionsSchema, options, '@Retry(options)');
  return record('retry', 'Retry', Object.freeze({ ...options }));
}

/**
 * Bounds each attempt of the method. A contract method receives the timeout's signal and deadline in
 * its call context (`context.signal`), so it can stop its own work; other methods are only abandoned.
 *
 * @example
 * @Timeout('250ms')
 * async get(input: { id: string }, context?: CallContext) { return this.db.find(input.id, { signal: context?.signal }); }
 */
export function Timeout(ms: Duration): DualMethodDecorator {
  return record('timeout', 'Timeout', parsePolicyOptions(timeoutSchema, ms, '@Timeout(ms)'));
}

/**
 * Limits concurrent runs of the method, per instance, with a bounded queue.
 *
 * @example
 * @Bulkhead({ maxConcurrent: 4, maxQueue: 20 })
 * async render(input: RenderInput) { ... }
 */
export function Bulkhead(options: BulkheadOptions): DualMethodDecorator {
  parsePolicyOptions(bulkheadOptionsSchema, options, '@Bulkhead(options)');
  return record('bulkhead', 'Bulkhead', Object.freeze({ ...options }));
}

/**
 * Answers with `handler(error, ...args)` (called on the instance) when the method fails with a failure
 * of a dependency (`CIRCUIT_OPEN`, `TIMEOUT`, `REMOTE_UNAVAILABLE`, ...). Answers such as `NOT_FOUND`
 * pass through unless `options.when` says otherwise.
 *
 * @example
 * @Fallback(function (this: Catalog) { return this.cachedTopSellers; })
 * async topSellers() { ... }
 */
export function Fallback(
  handler: FallbackMethod,
  options: FallbackDecoratorOptions = {},
): DualMethodDecorator {
  parsePolicyOptions(functionOf<FallbackMethod>(), handler, '@Fallback(handler)');
  const parsed = parsePolicyOptions(fallbackOptionsSchema, options, '@Fallback(handler, options)');
  return record('fallback', 'Fallback', Object.freeze({ handler, options: Object.freeze(parsed) }));
}
