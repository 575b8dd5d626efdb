/**
 * A small circuit breaker for the cache's Redis connection: after `threshold` consecutive failures it
 * opens and every call fails at once for `openFor` ms; then one probe call goes through (half-open):
 * success closes it, failure opens it again. It keeps no timer: time is read on each call.
 */

/** The state of a {@link Breaker}. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of a {@link Breaker}. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly threshold: number;
  /** How long the breaker stays open before one probe call is let through, in ms. */
  readonly openFor: number;
  /** Called on every state change. */
  readonly onChange?: (state: BreakerState, previous: BreakerState) => void;
}

/** See the module doc. */
export class Breaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(private readonly options: BreakerOptions) {}

  /** The current state (an open breaker whose time is up still reads `open` until a call probes). */
  get state(): BreakerState {
    return this.current;
  }

  /** True when a call may go through now; in half-open, only the one probe may. */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (Date.now() - this.openedAt < this.options.openFor) return false;
      this.transition('half-open');
      this.probing = true;
      return true;
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Records a successful call. */
  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  /** Records a failed call. */
  failure(): void {
    if (this.current === 'half-open') {
      this.probing = false;
      this.open();
      return;
    }
    if (this.current === 'open') return;
    this.failures++;
    if (this.failures >= this.options.threshold) this.open();
  }

  private open(): void {
    this.openedAt = Date.now();
    this.failures = 0;
    this.transition('open');
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.options.onChange?.(next, previous);
  }
}
