/**
 * What a circuit breaker is, for the code that holds breakers (the registry, readiness, metrics)
 * without building them: its interface, states, stats and state changes. `circuitBreaker()` makes one.
 */
import type { BrokenCircuitError } from './errors.js';
import type { Policy } from './policy.js';

/** State of a breaker: `closed` (calls flow), `open` (calls fail fast), `half-open` (one probe runs). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** A state change of a breaker. */
export interface CircuitStateChange {
  /** The breaker's name. */
  readonly breaker: string;
  /** The state before. */
  readonly from: CircuitState;
  /** The state after. */
  readonly to: CircuitState;
  /** When it changed, epoch ms. */
  readonly at: number;
  /** For a change to `open`: the failure that tripped it. */
  readonly error?: unknown;
}

/** Name, state and counts of a breaker; JSON-safe. Counts cover the rolling window. */
export interface CircuitBreakerStats {
  /** The breaker's name. */
  readonly name: string;
  /** Its state. */
  readonly state: CircuitState;
  /** Length of the rolling window, in ms. */
  readonly window: number;
  /** Calls that ran (not the rejected ones). */
  readonly calls: number;
  /** Calls that succeeded, or failed with an error that is not a failure (a 4xx answer). */
  readonly successes: number;
  /** Calls that failed. */
  readonly failures: number;
  /** Calls rejected without running because the breaker was open. */
  readonly rejected: number;
  /** Failures in a row, across windows. */
  readonly consecutiveFailures: number;
  /** When the breaker last opened, epoch ms; undefined while it has never opened. */
  readonly openedAt: number | undefined;
  /** While open: ms until a probe is let through. */
  readonly retryAfterMs: number | undefined;
  /** The last failure: its code (if any), message and time. */
  readonly lastFailure:
    | { readonly code: string | undefined; readonly message: string; readonly at: number }
    | undefined;
}

/** A policy made by `circuitBreaker()`. */
export interface CircuitBreakerPolicy extends Policy {
  /** The breaker's name. */
  readonly name: string;
  /** Its current state. */
  readonly state: CircuitState;
  /** True while calls are rejected without running (open, or half-open with the probe in flight). */
  readonly isOpen: boolean;
  /** Name, state and counts. */
  stats(): CircuitBreakerStats;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: (change: CircuitStateChange) => void): () => void;
  /**
   * Calls `listener` with the error of every call rejected without running (open, or half-open with
   * the probe in flight); returns a function that removes it.
   */
  onReject(listener: (error: BrokenCircuitError) => void): () => void;
  /** Stops the breaker's timer and leaves the registry. Calls made afterwards are rejected. */
  dispose(): void;
}
