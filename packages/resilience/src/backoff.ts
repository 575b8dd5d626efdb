/**
 * Exponential backoff with full jitter (see "Exponential Backoff And Jitter", AWS Architecture Blog):
 * the n-th retry waits a random time between 0 and `min(maxDelay, baseDelay × 2^(n-1))`, which spreads
 * the retries of many callers instead of sending them back in lockstep.
 */

/** How long to wait before a retry. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay, in ms. */
  readonly baseDelay: number;
  /** Largest delay, in ms. */
  readonly maxDelay: number;
  /** `full`: a random delay up to the ceiling; `none`: the ceiling itself. */
  readonly jitter: 'full' | 'none';
  /** Random source in `[0, 1)`. */
  readonly random: () => number;
}

/** The delay in ms before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxDelay, options.baseDelay * 2 ** (retry - 1));
  return options.jitter === 'full' ? Math.floor(options.random() * ceiling) : ceiling;
}
