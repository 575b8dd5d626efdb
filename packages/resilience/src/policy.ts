/**
 * The policy interface and `wrap`: every policy is a value with one `execute(fn, context)` method,
 * so policies compose by nesting and a decorator is a thin adapter over `execute`.
 */

/**
 * What a policy hands to the function it runs, and what a caller may hand to `execute`.
 *
 * Policies derive a new context for the function they run: a timeout gives it a signal that aborts
 * when the time is up, a retry tells it the attempt number. Read `signal` only when the work can use
 * it: a timeout creates its `AbortController` on the first read, so work that never looks costs nothing.
 */
export interface PolicyContext {
  /** Aborted when the caller gives up or a timeout or deadline fires; its `reason` is the coded error. */
  readonly signal?: AbortSignal | undefined;
  /** Absolute deadline in epoch milliseconds, when one is known. Inner timeouts never run past it. */
  readonly deadline?: number | undefined;
  /** 1 for the first attempt, 2 for the first retry, ...; set inside a retry policy. */
  readonly attempt?: number | undefined;
}

/** The work a policy runs: called with the derived context; may return a value or a promise. */
export type PolicyTask<T> = (context: PolicyContext) => PromiseLike<T> | T;

/**
 * A resilience policy: a value with one method.
 *
 * @example
 * const policy = wrap(retry({ maxAttempts: 3 }), circuitBreaker({ name: 'prices' }), timeout(500));
 * const price = await policy.execute(({ signal }) => fetchPrice(id, { signal }));
 */
export interface Policy {
  /**
   * Runs `fn` under the policy. Resolves with its result, or rejects with its error or the policy's
   * coded error (`CIRCUIT_OPEN`, `TIMEOUT`, `BULKHEAD_REJECTED`, `RETRY_EXHAUSTED`).
   * `context.signal` lets the caller cancel; `context.deadline` bounds every inner timeout.
   */
  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T>;
  /**
   * Releases what the policy holds: timers, a breaker's registration, queued calls (rejected). The
   * policy stays usable, but an app calls this only on stop. Optional: stateless policies have none.
   */
  dispose?(): void;
}

/** A policy made by {@link wrap}: it keeps the policies it composes, outermost first. */
export interface WrappedPolicy extends Policy {
  /** The composed policies, outermost first. */
  readonly policies: readonly Policy[];
  /** Disposes every composed policy. */
  dispose(): void;
}

/**
 * Composes policies: the first is the outermost, so `wrap(a, b, c).execute(fn)` runs
 * `a.execute(() => b.execute(() => c.execute(fn)))`. With no policies, `fn` runs as it is.
 *
 * @example
 * // retry outside the breaker (each attempt is counted), timeout inside (each attempt is bounded)
 * const policy = wrap(retry(), circuitBreaker({ name: 'payments' }), timeout(2_000));
 */
export function wrap(...policies: readonly Policy[]): WrappedPolicy {
  const list = Object.freeze([...policies]);
  const dispose = () => {
    for (const policy of list) policy.dispose?.();
  };
  const count = list.length;
  if (count === 0) {
    return {
      policies: list,
      dispose,
      execute: <T>(fn: PolicyTask<T>, context?: PolicyContext) => {
        try {
          return Promise.resolve(fn(context ?? EMPTY_CONTEXT));
        } catch (error) {
          return Promise.reject(error);
        }
      },
    };
  }
  const first = list[0]!;
  return {
    policies: list,
    dispose,
    execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
      let inner = fn;
      for (let i = count - 1; i > 0; i--) {
        const policy = list[i]!;
        const next = inner;
        inner = (derived) => policy.execute(next, derived);
      }
      return first.execute(inner, context);
    },
  };
}

/** The context given to work run without one. */
export const EMPTY_CONTEXT: PolicyContext = Object.freeze({});
