/**
 * `fallback`: answers with a substitute when the wrapped call fails with a matching error.
 */
import { z } from 'zod';
import { shouldFallback } from './errors.js';
import { functionOf, parsePolicyOptions } from './internal/option-schemas.js';
import { EMPTY_CONTEXT, type Policy, type PolicyContext, type PolicyTask } from './policy.js';

/** Computes the substitute from the error and the context. */
export type FallbackHandler<F> = (error: unknown, context: PolicyContext | undefined) => F | PromiseLike<F>;

/** The options of {@link fallback} and `@Fallback`: their type, defaults and checks. */
export const fallbackOptionsSchema = z.strictObject({
  /**
   * Which errors are replaced. Default {@link shouldFallback}: failures (`CIRCUIT_OPEN`, `TIMEOUT`,
   * `REMOTE_UNAVAILABLE`, `BULKHEAD_REJECTED`, `RETRY_EXHAUSTED`, 5xx, uncoded errors, also when a
   * remote service relayed them), not answers (`NOT_FOUND`, `VALIDATION_FAILED`, ...) nor `ABORTED`.
   */
  when: functionOf<(error: unknown) => boolean>().default(() => shouldFallback),
});

/** Options of {@link fallback}; see {@link fallbackOptionsSchema}. */
export type FallbackOptions = z.input<typeof fallbackOptionsSchema>;

/**
 * Replaces a failed call's error with a substitute: `substitute` itself, or what it returns when it is
 * a function (called with the error and the context). Errors that do not match `when` pass through.
 * The substitute must have the type the wrapped call returns; wrap a function value in `() => fn`.
 *
 * @example
 * const recommendations = wrap(fallback(() => []), circuitBreaker({ name: 'recs' }), timeout('300ms'));
 */
export function fallback<F>(substitute: F | FallbackHandler<F>, options: FallbackOptions = {}): Policy {
  const { when } = parsePolicyOptions(fallbackOptionsSchema, options, 'fallback(substitute, options)');
  const handler: FallbackHandler<F> =
    typeof substitute === 'function' ? (substitute as FallbackHandler<F>) : () => substitute;
  return {
    async execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
      try {
        return await fn(context ?? EMPTY_CONTEXT);
      } catch (error) {
        if (!when(error)) throw error;
        return (await handler(error, context)) as unknown as T;
      }
    },
  };
}
