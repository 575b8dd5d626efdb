/** The settlement writes a broker consumer has started and not seen finish. */
import { withTimeout } from '../../internal/with-timeout.js';

/**
 * Tracks writes (acks, retries, dead letters, inbox records) until they settle, so `close()` can wait
 * for them. A write that rejects is reported to `onError`.
 */
export class PendingWrites {
  private readonly writes = new Set<Promise<unknown>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Tracks `promise` until it settles; a rejection goes to `onError`. */
  add(promise: Promise<unknown>): void {
    this.writes.add(promise);
    promise.then(
      () => this.writes.delete(promise),
      (error: unknown) => {
        this.writes.delete(promise);
        this.onError(error);
      },
    );
  }

  /** Resolves once every write tracked now has settled, or after `timeout` ms when given. */
  async settled(timeout?: number): Promise<void> {
    if (this.writes.size === 0) return;
    const all = Promise.allSettled([...this.writes]);
    if (timeout === undefined) await all;
    else await withTimeout(all, timeout, 'pending writes').catch(() => undefined);
  }
}
