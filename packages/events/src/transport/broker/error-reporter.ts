/** Passing a broker transport's background errors to the user's `onError` without flooding it. */

/** How long the same message is not reported again. */
const ERROR_REPEAT_MS = 5_000;

/**
 * Counts every background error in `counters.errors` and passes it to `onError`, except a repeat of the
 * last message within 5 s. A throwing `onError` is ignored: it must not break the transport.
 */
export class ThrottledErrorReporter {
  private last = { message: '', at: 0 };

  constructor(
    private readonly onError: ((error: unknown) => void) | undefined,
    private readonly counters: Record<string, number>,
  ) {}

  /** Counts `error` and reports it unless it repeats the last one. */
  report(error: unknown): void {
    this.counters.errors = (this.counters.errors ?? 0) + 1;
    const message = String((error as Error)?.message ?? error);
    const now = Date.now();
    if (message === this.last.message && now - this.last.at < ERROR_REPEAT_MS) return;
    this.last = { message, at: now };
    try {
      this.onError?.(error);
    } catch {
      // A failing reporter must not break the transport.
    }
  }
}
