/**
 * `retryBudget`: caps how much extra load retries may add, so a sick dependency sees at most
 * `1 + ratio` times its normal traffic instead of `maxAttempts` times.
 */
import { z } from 'zod';
import { durationOf, numberWithin, parsePolicyOptions, wholeNumber } from './internal/option-schemas.js';

const BUCKETS = 10;
const CLOCK_EVERY = 16;

/**
 * The budget options a topology file may set too (`policies.*.retry.budget`): their checks, shared by
 * {@link retryBudget} and the `policies` section.
 */
export const budgetOptionFields = {
  /** A number from 0 to 1000. */
  ratio: numberWithin(0, 1000, 'a ratio >= 0, e.g. 0.2'),
  /** A whole number >= 0. */
  minRetries: wholeNumber(0),
  /** A duration of at least 10 ms (the window has 10 buckets). */
  window: durationOf(BUCKETS),
};

/** The options of {@link retryBudget}: their type, defaults and checks. */
const retryBudgetOptionsSchema = z.strictObject({
  /** Retries allowed per call made, over the window: 0.2 lets retries add at most 20% load. Default 0.2. */
  ratio: budgetOptionFields.ratio.default(0.2),
  /**
   * Retries always allowed per window, however few calls were made, so a quiet caller can still
   * retry a lost request. The cap is `max(minRetries, ratio × calls)`. Default 10.
   */
  minRetries: budgetOptionFields.minRetries.default(10),
  /** Length of the sliding window over which calls and retries are counted. Default `"10s"`. */
  window: budgetOptionFields.window.default(10_000),
});

/** Options of {@link retryBudget}; see {@link retryBudgetOptionsSchema} for each one. */
export type RetryBudgetOptions = z.input<typeof retryBudgetOptionsSchema>;

/** Counts of a {@link RetryBudget} over its current window. */
export interface RetryBudgetStats {
  /** Calls recorded (first attempts). */
  readonly calls: number;
  /** Retries granted. */
  readonly retries: number;
  /** Retries refused because the budget was spent. */
  readonly refused: number;
  /** Retries allowed in the window right now: `max(minRetries, ratio × calls)`. */
  readonly allowed: number;
}

/**
 * A retry budget, shared by the retry policies of one dependency. A retry policy records each call
 * and asks before each retry.
 */
export interface RetryBudget {
  /** Records one call (a first attempt). */
  recordCall(): void;
  /** Takes one retry from the budget; false when the budget is spent (the retry must not happen). */
  tryRetry(): boolean;
  /** Counts over the current window. */
  stats(): RetryBudgetStats;
}

/**
 * Creates a retry budget: over a sliding window (10 buckets, rotated lazily on use, so no timer), the
 * retries granted never exceed `max(minRetries, ratio × calls)`.
 *
 * @example
 * const budget = retryBudget({ ratio: 0.2 });
 * const get = retry({ budget }), list = retry({ budget }); // one budget per dependency
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return budgetOf(options, 'retryBudget(options)');
}

/** A retry budget from `options`, with `subject` in the messages of invalid options. */
export function budgetOf(options: RetryBudgetOptions, subject: string): RetryBudget {
  const { ratio, minRetries, window } = parsePolicyOptions(retryBudgetOptionsSchema, options, subject);
  return new SlidingRetryBudget(ratio, minRetries, window);
}

class SlidingRetryBudget implements RetryBudget {
  private readonly calls = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private readonly refusals = new Array<number>(BUCKETS).fill(0);
  private readonly bucketMs: number;
  private index = 0;
  private bucketEnd: number;
  private totalCalls = 0;
  private totalRetries = 0;
  private totalRefused = 0;
  private sinceClock = 0;

  constructor(
    private readonly ratio: number,
    private readonly minRetries: number,
    window: number,
  ) {
    this.bucketMs = window / BUCKETS;
    this.bucketEnd = Date.now() + this.bucketMs;
  }

  recordCall(): void {
    // Reading the clock costs about as much as the rest of a call here, so it is read every 16th call
    // (and on every retry and read). A late read files calls in an older bucket, which only lets them
    // expire early: the budget errs towards fewer retries, never more.
    if (++this.sinceClock >= CLOCK_EVERY) this.rotate();
    this.calls[this.index]!++;
    this.totalCalls++;
  }

  tryRetry(): boolean {
    this.rotate();
    if (this.totalRetries + 1 > this.allowed()) {
      this.refusals[this.index]!++;
      this.totalRefused++;
      return false;
    }
    this.retries[this.index]!++;
    this.totalRetries++;
    return true;
  }

  stats(): RetryBudgetStats {
    this.rotate();
    return {
      calls: this.totalCalls,
      retries: this.totalRetries,
      refused: this.totalRefused,
      allowed: Math.floor(this.allowed()),
    };
  }

  private allowed(): number {
    return Math.max(this.minRetries, this.ratio * this.totalCalls);
  }

  private rotate(): void {
    this.sinceClock = 0;
    const now = Date.now();
    if (now < this.bucketEnd) return;
    const steps = Math.min(BUCKETS, Math.floor((now - this.bucketEnd) / this.bucketMs) + 1);
    for (let i = 0; i < steps; i++) {
      this.index = (this.index + 1) % BUCKETS;
      this.totalCalls -= this.calls[this.index]!;
      this.totalRetries -= this.retries[this.index]!;
      this.totalRefused -= this.refusals[this.index]!;
      this.calls[this.index] = 0;
      this.retries[this.index] = 0;
      this.refusals[this.index] = 0;
    }
    this.bucketEnd += Math.ceil((now - this.bucketEnd + 1) / this.bucketMs) * this.bucketMs;
  }
}
