/**
 * Polling for tests: wait on a condition instead of sleeping. The one polling helper of the repository:
 * the conformance suites, the packages' tests and the test harness all use it.
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms. Default `5000`. */
  timeout?: number;
  /** Poll every this many ms. Default `10`. */
  interval?: number;
  /** What was awaited, for the error message, e.g. `'the consumer to receive 3 events'`. */
  message?: string;
}

/**
 * Polls `condition` until it returns (or resolves to) `true`; throws a clear error after `timeout` ms.
 * A condition that throws counts as "not yet"; its last error becomes the timeout error's `cause`.
 * Use it instead of fixed sleeps.
 *
 * @example
 * await waitFor(() => received.length === 3, { message: 'three events delivered' });
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const { timeout = 5_000, interval = 10, message = 'condition' } = options;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeout) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`waitFor timed out after ${elapsed} ms waiting for ${message}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, timeout - elapsed)));
  }
}
