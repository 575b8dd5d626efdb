/**
 * `retry`: runs a function again when it fails with an error worth retrying, with exponential backoff,
 * full jitter and a retry budget.
 */

import { type BackoffFunction, toBackoffFunction } from '@blueprint/core/plugin';
import { z } from 'zod';
import { isTransientError, ResilienceOptionsError, RetryExhaustedError } from './errors.js';
import { abortError, PEEK_SIGNAL, type PeekableContext, peekSignal } from './internal/context.js';
import {
  backoffOption,
  functionOf,
  parsePolicyOptions,
  renamedTo,
  wholeNumber,
} from './internal/option-schemas.js';
import type { Policy, PolicyContext, PolicyTask } from './policy.js';
import { budgetOf, type RetryBudget, type RetryBudgetOptions } from './retry-budget.js';

/** Defaults of the exponential backoff of retries: 100 ms, doubling, capped at 2 s, full jitter. */
export const RETRY_BACKOFF_DEFAULTS = Object.freeze({
  initial: 100,
  max: 2_000,
  factor: 2,
  jitter: 'full',
} as const);

/** Attempts in total when `maxAttempts` is not given. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * The retry options a topology file may set too (`policies.*.retry`): their checks, shared by
 * {@link retry}, `@Retry` and the `policies` section (whose `backoff` is core's `backoffSchema`).
 */
export const retryOptionFields = {
  /** A whole number >= 1. */
  maxAttempts: wholeNumber(1),
};

/** The options of {@link retry} and `@Retry`: their type, defaults and checks. */
export const retryOptionsSchema = z.strictObject({
  /** What is retried, for error messages. Default: `"operation"`. */
  name: z.string().default('operation'),
  /** Attempts in total, the first one included. 1 disables retries. Default 3. */
  maxAttempts: retryOptionFields.maxAttempts.default(DEFAULT_MAX_ATTEMPTS),
  /**
   * How long to wait before each retry: core's backoff shape. Exponential options
   * `{ initial, max, factor, jitter }` (defaults `"100ms"`, `"2s"`, 2, `"full"`: retry n waits a random
   * time up to `min(max, initial × factor^(n-1))`), a list of delays (the last one repeats), or a
   * function of the failed attempt returning milliseconds.
   *
   * @example
   * retry({ backoff: { initial: '50ms', max: '1s' } })
   */
  backoff: backoffOption.optional(),
  /**
   * Which errors are retried. Default {@link isTransientError}: `REMOTE_UNAVAILABLE`, `TIMEOUT` and
   * socket errors; never a validation error, `NOT_FOUND`, another answer of a service, `CIRCUIT_OPEN`
   * (retrying into an open breaker only burns attempts), `BULKHEAD_REJECTED` or `ABORTED`.
   */
  shouldRetry: functionOf<(error: unknown, attempt: number) => boolean>().default(() => isTransientError),
  /**
   * Caps the extra load of retries. A {@link RetryBudget} to share one budget between policies, options
   * for a private one, or `false` for none. Default: a private budget with the default options
   * (retries add at most 20% load, at least 10 per 10 s).
   */
  budget: z.custom<RetryBudget | RetryBudgetOptions | false>().optional(),
  /** Waits `ms` before a retry; rejects when `signal` aborts. Inject it in tests. Default: a timer. */
  delay: functionOf<(ms: number, signal: AbortSignal | undefined) => Promise<void>>().default(() => sleep),
  /** Random source in `[0, 1)` for the jitter. Inject it in tests. Default `Math.random`. */
  random: functionOf<() => number>().default(() => Math.random),
  /** @deprecated Renamed: write `backoff: { initial }`. */
  baseDelay: renamedTo('backoff.initial'),
  /** @deprecated Renamed: write `backoff: { max }`. */
  maxDelay: renamedTo('backoff.max'),
  /** @deprecated Renamed: write `backoff: { jitter }`. */
  jitter: renamedTo('backoff.jitter'),
});

/** Options of {@link retry}; see {@link retryOptionsSchema} for each one. */
export type RetryOptions = z.input<typeof retryOptionsSchema>;

/** What a retry listener is told before each retry. */
export interface RetryEvent {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  /** The delay before the next attempt, in ms. */
  readonly delay: number;
  /** The error of the failed attempt. */
  readonly error: unknown;
}

/** A policy made by {@link retry}. */
export interface RetryPolicy extends Policy {
  /** The budget this policy draws from, if any. */
  readonly budget: RetryBudget | undefined;
  /** Calls `listener` before each retry; returns a function that removes it. */
  onRetry(listener: (event: RetryEvent) => void): () => void;
  /** Cancels the waits between attempts still running: their calls reject with `ABORTED`. */
  dispose(): void;
}

/**
 * Retries `fn` while it fails with a retryable error, up to `maxAttempts` attempts in total. Before
 * retry n it waits `backoff(n)`: by default a random time up to `min(2 s, 100 ms × 2^(n-1))`; it never
 * waits past the context's deadline and stops at once when the context's signal aborts.
 *
 * What the caller sees: the result of the first attempt that succeeds; the error itself when it is not
 * retryable or no retry was made (first attempt failed and the budget is spent); otherwise
 * `RetryExhaustedError` (`RETRY_EXHAUSTED`) with every attempt's error in `causes`.
 *
 * Retry only what is safe to run twice: a failed remote call may have run zero, one or several times.
 *
 * @example
 * const result = await retry({ maxAttempts: 3, backoff: { initial: '50ms' } }).execute(() => prices.get({ id }));
 */
export function retry(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicyImpl(options);
}

class RetryPolicyImpl implements RetryPolicy {
  readonly budget: RetryBudget | undefined;
  private readonly name: string;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffFunction;
  private readonly shouldRetry: (error: unknown, attempt: number) => boolean;
  private readonly delay: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private listeners: ((event: RetryEvent) => void)[] = [];
  private readonly sleeping = new Set<AbortController>();

  constructor(input: RetryOptions) {
    const subject = 'retry(options)';
    const options = parsePolicyOptions(retryOptionsSchema, input, subject);
    this.name = options.name;
    this.maxAttempts = options.maxAttempts;
    this.backoff = toBackoffFunction(options.backoff, {
      defaults: RETRY_BACKOFF_DEFAULTS,
      subject: `${subject}.backoff`,
      error: ResilienceOptionsError,
      random: options.random,
    });
    this.shouldRetry = options.shouldRetry;
    this.delay = options.delay;
    const budget = options.budget;
    this.budget =
      budget === false
        ? undefined
        : budget !== undefined && typeof (budget as RetryBudget).tryRetry === 'function'
          ? (budget as RetryBudget)
          : budgetOf((budget ?? {}) as RetryBudgetOptions, `${subject}.budget`);
  }

  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
    this.budget?.recordCall();
    // The first attempt outside an async function: a call that succeeds at once pays one promise.
    let first: PromiseLike<T> | T;
    try {
      first = fn(context === undefined ? FIRST_ATTEMPT : new AttemptContext(context, 1));
    } catch (error) {
      return this.retryAfter(error, fn, context);
    }
    return Promise.resolve(first).then(undefined, (error: unknown) => this.retryAfter(error, fn, context));
  }

  /** Retries after the first attempt failed with `error`. */
  private async retryAfter<T>(
    error: unknown,
    fn: PolicyTask<T>,
    context: PolicyContext | undefined,
  ): Promise<T> {
    const causes: unknown[] = [error];
    let failure = error;
    for (let attempt = 1; ; attempt++) {
      const delay = this.nextDelay(failure, attempt, context, causes);
      if (delay === undefined) throw failure;
      for (const listener of this.listeners) listener({ attempt, delay, error: failure });
      await this.wait(delay, context);
      try {
        return await fn(new AttemptContext(context, attempt + 1));
      } catch (next) {
        causes.push(next);
        failure = next;
      }
    }
  }

  onRetry(listener: (event: RetryEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  dispose(): void {
    for (const controller of this.sleeping) controller.abort();
    this.sleeping.clear();
  }

  /** The delay before the next attempt, `undefined` to rethrow `error`; throws RETRY_EXHAUSTED. */
  private nextDelay(
    error: unknown,
    attempt: number,
    context: PolicyContext | undefined,
    causes: unknown[],
  ): number | undefined {
    if (!this.shouldRetry(error, attempt)) return undefined;
    const signal = context?.signal;
    if (signal?.aborted) throw abortError(signal, this.name);
    if (attempt >= this.maxAttempts) return this.giveUp('max-attempts', attempt, causes);
    const delay = this.backoff(attempt);
    const deadline = context?.deadline;
    if (deadline !== undefined && Date.now() + delay >= deadline)
      return this.giveUp('deadline', attempt, causes);
    if (this.budget !== undefined && !this.budget.tryRetry()) return this.giveUp('budget', attempt, causes);
    return delay;
  }

  private giveUp(
    reason: 'max-attempts' | 'deadline' | 'budget',
    attempts: number,
    causes: unknown[],
  ): undefined {
    if (attempts === 1) return undefined;
    const last = causes.at(-1) as { code?: unknown; message?: unknown } | undefined;
    const why =
      reason === 'max-attempts'
        ? `all ${attempts} attempts failed`
        : reason === 'deadline'
          ? `${attempts} attempts failed and the deadline leaves no time for another`
          : `${attempts} attempts failed and the retry budget is spent`;
    throw new RetryExhaustedError(`${this.name}: ${why}; last error: ${String(last?.message ?? last)}`, {
      causes,
      details: {
        attempts,
        reason,
        codes: causes.map((c) => (c as { code?: unknown } | undefined)?.code ?? null),
      },
    });
  }

  private async wait(ms: number, context: PolicyContext | undefined): Promise<void> {
    if (ms <= 0) return;
    const controller = new AbortController();
    const signal = context?.signal;
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.sleeping.add(controller);
    try {
      await this.delay(ms, controller.signal);
    } catch {
      if (signal?.aborted) throw abortError(signal, this.name);
      throw abortError(controller.signal, `${this.name} (retry policy disposed)`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.sleeping.delete(controller);
    }
  }
}

/** The context of one attempt: the caller's, plus the attempt number. */
class AttemptContext implements PeekableContext {
  constructor(
    private readonly parent: PolicyContext | undefined,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.parent?.signal;
  }

  get deadline(): number | undefined {
    return this.parent?.deadline;
  }

  [PEEK_SIGNAL](): AbortSignal | undefined {
    return peekSignal(this.parent);
  }
}

/** The context of a first attempt made without a caller context. */
const FIRST_ATTEMPT: PolicyContext = Object.freeze({ attempt: 1 });

/** Waits `ms` on a timer; rejects when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
