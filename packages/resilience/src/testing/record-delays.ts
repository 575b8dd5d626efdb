/**
 * A `delay` for `retry({ delay })` that records each requested wait and resolves at once, so a test
 * can assert the backoff without waiting or faking timers.
 */

/** What {@link recordDelays} returns. */
export interface RecordedDelays {
  /** Pass it as `retry({ delay })`. */
  readonly delay: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** The waits requested so far, in ms, in order. */
  readonly delays: readonly number[];
}

/**
 * Records retry delays instead of waiting.
 *
 * @example
 * const { delay, delays } = recordDelays();
 * await retry({ delay, random: () => 1 }).execute(flaky).catch(() => {});
 * expect(delays).toEqual([100, 200]);
 */
export function recordDelays(): RecordedDelays {
  const delays: number[] = [];
  return {
    delays,
    delay: (ms, signal) => {
      delays.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
}
