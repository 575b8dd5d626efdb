/**
 * Decorators: `@CircuitBreaker`, `@Retry`, `@Timeout`, `@Bulkhead`, `@Fallback`. They only record
 * metadata on the class; `resiliencePlugin()` builds the policies when the app creates an instance
 * (one set per instance and method, so two instances never share a breaker, and nothing is global).
 *
 * Whatever order the decorators are written in, a call runs through them in one fixed order, from the
 * outside in: fallback → bulkhead → retry → circuit breaker → timeout (each attempt is bounded, each
 * attempt counts in the breaker, the bulkhead counts a call once however often it is retried).
 */
import { getMethodMetadata, setMethodMetadata } from '@blueprint/core';
import { type BulkheadOptions, bulkhead } from './bulkhead.js';
import { type CircuitBreakerOptions, circuitBreaker } from './circuit-breaker.js';
import { ResilienceOptionsError } from './errors.js';
import { type Duration, durationOption, functionOption } from './internal/options.js';
import { type RetryOptions, retry } from './retry.js';

/** Breaker options of a decorator; the breaker joins the process's registry by itself. */
export type CircuitBreakerDecoratorOptions = Omit<CircuitBreakerOptions, 'registry'>;

/** Fallback of a decorator: called with the error and the method's arguments, `this` being the instance. */
export type FallbackMethod = (this: any, error: unknown, ...args: any[]) => unknown;

/** Options of {@link Fallback}. */
export interface FallbackDecoratorOptions {
  /** Which errors are replaced. Default `shouldFallback`: failures, not answers below 500. */
  readonly when?: (error: unknown) => boolean;
}

/** What the decorators of one method recorded. */
export interface DecoratedPolicies {
  /** The prototype that declared them (a subclass that overrides the method starts afresh). */
  readonly owner: object;
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
export const RESILIENCE_METADATA = 'resilience';

type Kind = 'breaker' | 'retry' | 'timeout' | 'bulkhead' | 'fallback';

function record(kind: Kind, decorator: string, value: unknown): MethodDecorator {
  return (prototype, method) => {
    const owner = prototype as { constructor: { name: string } };
    const where = `${owner.constructor.name}.${String(method)}`;
    const existing =
      typeof method === 'string'
        ? getMethodMetadata<DecoratedPolicies>(owner.constructor, method, RESILIENCE_METADATA)
        : undefined;
    const own: DecoratedPolicies = existing?.owner === prototype ? existing : { owner: prototype };
    if (own[kind] !== undefined) {
      throw new ResilienceOptionsError(`@${decorator} is used twice on ${where}; keep one`);
    }
    setMethodMetadata(prototype, method, RESILIENCE_METADATA, Object.freeze({ ...own, [kind]: value }));
  };
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
export function CircuitBreaker(options: CircuitBreakerDecoratorOptions = {}): MethodDecorator {
  circuitBreaker(options).dispose();
  return record('breaker', 'CircuitBreaker', Object.freeze({ ...options }));
}

/**
 * Retries the method when it fails with a retryable error (see `retry` for options and defaults).
 * Use it only on methods that are safe to run twice.
 *
 * @example
 * @Retry({ maxAttempts: 3, baseDelay: '50ms' })
 * async fetchRates() { ... }
 */
export function Retry(options: RetryOptions = {}): MethodDecorator {
  retry(options);
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
export function Timeout(ms: Duration): MethodDecorator {
  return record('timeout', 'Timeout', durationOption(ms, '@Timeout(ms)', 1));
}

/**
 * Limits concurrent runs of the method, per instance, with a bounded queue.
 *
 * @example
 * @Bulkhead({ maxConcurrent: 4, maxQueue: 20 })
 * async render(input: RenderInput) { ... }
 */
export function Bulkhead(options: BulkheadOptions): MethodDecorator {
  bulkhead(options).dispose();
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
export function Fallback(handler: FallbackMethod, options: FallbackDecoratorOptions = {}): MethodDecorator {
  functionOption(handler, '@Fallback(handler)');
  if (options.when !== undefined) functionOption(options.when, '@Fallback when');
  return record('fallback', 'Fallback', Object.freeze({ handler, options }));
}
