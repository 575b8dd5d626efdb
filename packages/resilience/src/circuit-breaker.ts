/**
 * `circuitBreaker`: stops calling a dependency that keeps failing, fails fast while it is open, and
 * lets one probe through after a while to find out whether it is back. Built on opossum, which is
 * kept out of the public types.
 */
import { EventEmitter } from 'node:events';
import OpossumCircuitBreaker from 'opossum';
import type { BreakerRegistry } from './breaker-registry.js';
import { BrokenCircuitError, isDependencyFailure, ResilienceOptionsError } from './errors.js';
import {
  type Duration,
  durationOption,
  functionOption,
  integerOption,
  numberOption,
} from './internal/options.js';
import { EMPTY_CONTEXT, type Policy, type PolicyContext, type PolicyTask } from './policy.js';

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

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Name in errors, stats, readiness checks and the registry. Default `"circuit-breaker"`. */
  readonly name?: string;
  /**
   * Opens when more than this percentage of the calls in the window failed (once `minimumCalls` ran).
   * `false` disables the rule (use `consecutiveFailures` alone). Default 50.
   */
  readonly failureRate?: number | false;
  /** Calls the window must hold before `failureRate` is judged. Default 10. */
  readonly minimumCalls?: number;
  /** Opens after this many failures in a row, whatever the window holds. Default `false` (off). */
  readonly consecutiveFailures?: number | false;
  /** Length of the rolling window of counts. Default `"10s"`. */
  readonly window?: Duration;
  /** Buckets of the window: counts expire one bucket at a time. Default 10. */
  readonly buckets?: number;
  /** How long the breaker stays open before it lets one probe call through. Default `"10s"`. */
  readonly halfOpenAfter?: Duration;
  /**
   * Which errors count as failures. Default {@link isDependencyFailure}: everything except coded
   * answers below 500 (`NOT_FOUND`, `VALIDATION_FAILED`, `ABORTED`, ...), which prove the dependency
   * works, and errors it relayed from its own dependencies.
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Registers the breaker here (and unregisters it on `dispose()`). */
  readonly registry?: BreakerRegistry;
}

/** A policy made by {@link circuitBreaker}. */
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

/**
 * Creates a circuit breaker.
 *
 * - **closed**: calls run; failures are counted over a rolling window. The breaker opens when more
 *   than `failureRate`% of at least `minimumCalls` calls failed, or after `consecutiveFailures` in a row.
 * - **open**: calls are rejected at once with `BrokenCircuitError` (`CIRCUIT_OPEN`) without running.
 * - **half-open**: after `halfOpenAfter`, the next call runs as a probe while the others are still
 *   rejected; success closes the breaker, failure opens it again for another `halfOpenAfter`.
 *
 * The breaker has no timeout of its own: put a `timeout` inside it (`wrap(breaker, timeout(...))`) so
 * that a hanging call, the probe included, counts as a failure instead of holding the breaker half-open.
 *
 * @example
 * const breaker = circuitBreaker({ name: 'payments', consecutiveFailures: 5, halfOpenAfter: '5s' });
 * breaker.onStateChange(({ from, to }) => log.warn(`payments breaker ${from} → ${to}`));
 * await wrap(breaker, timeout('2s')).execute(({ signal }) => charge(order, { signal }));
 */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreakerPolicy {
  return new OpossumBreakerPolicy(options);
}

type Action = (fn: PolicyTask<unknown>, context: PolicyContext | undefined) => Promise<unknown>;

const runTask: Action = (fn, context) => Promise.resolve(fn(context ?? EMPTY_CONTEXT));

function describeFailure(error: unknown, at: number): CircuitBreakerStats['lastFailure'] {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : undefined, message, at };
}

class OpossumBreakerPolicy implements CircuitBreakerPolicy {
  readonly name: string;
  private readonly breaker: OpossumCircuitBreaker<Parameters<Action>, unknown>;
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly rotation = new EventEmitter();
  private nextRotation: number;
  private rotationDue = false;
  private rotationTimer: NodeJS.Timeout | undefined;
  private readonly onRotationTimer = () => {
    this.rotationTimer = undefined;
    this.rotationDue = true;
  };
  private readonly halfOpenAfter: number;
  private readonly consecutiveLimit: number;
  private current: CircuitState = 'closed';
  private consecutive = 0;
  private openedAt: number | undefined;
  private lastError: unknown;
  private lastFailure: CircuitBreakerStats['lastFailure'];
  private listeners: ((change: CircuitStateChange) => void)[] = [];
  private rejectListeners: ((error: BrokenCircuitError) => void)[] = [];
  private unregister: (() => void) | undefined;
  private disposed = false;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name ?? 'circuit-breaker';
    const failureRate =
      options.failureRate === false
        ? false
        : numberOption(options.failureRate ?? 50, `breaker "${this.name}" failureRate`, 0, 100, true);
    this.consecutiveLimit =
      options.consecutiveFailures === undefined || options.consecutiveFailures === false
        ? 0
        : integerOption(options.consecutiveFailures, `breaker "${this.name}" consecutiveFailures`, 1);
    if (failureRate === false && this.consecutiveLimit === 0) {
      throw new ResilienceOptionsError(
        `breaker "${this.name}" can never open: failureRate is false and consecutiveFailures is off; set one of them`,
      );
    }
    const buckets = integerOption(options.buckets ?? 10, `breaker "${this.name}" buckets`, 1, 1000);
    this.buckets = buckets;
    this.windowMs = durationOption(options.window ?? 10_000, `breaker "${this.name}" window`, buckets);
    this.bucketMs = this.windowMs / buckets;
    this.halfOpenAfter = durationOption(
      options.halfOpenAfter ?? 10_000,
      `breaker "${this.name}" halfOpenAfter`,
      1,
    );
    const isFailure = functionOption(
      options.isFailure ?? isDependencyFailure,
      `breaker "${this.name}" isFailure`,
    );
    this.breaker = new OpossumCircuitBreaker<Parameters<Action>, unknown>(runTask, {
      name: this.name,
      timeout: false,
      resetTimeout: this.halfOpenAfter,
      errorThresholdPercentage: failureRate === false ? 100 : failureRate,
      volumeThreshold: integerOption(options.minimumCalls ?? 10, `breaker "${this.name}" minimumCalls`, 0),
      rollingCountTimeout: this.windowMs,
      rollingCountBuckets: buckets,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: this.rotation,
      errorFilter: (error: unknown) => !isFailure(error),
    });
    this.nextRotation = Date.now() + this.bucketMs;
    const b = this.breaker;
    b.on('open', () => this.transition('open'));
    b.on('halfOpen', () => this.transition('half-open'));
    b.on('close', () => this.transition('closed'));
    b.on('success', () => {
      this.consecutive = 0;
    });
    b.on('failure', (error: unknown) => {
      if (this.rotationDue) this.rotate();
      this.consecutive++;
      this.lastError = error;
      this.lastFailure = describeFailure(error, Date.now());
      if (this.consecutiveLimit > 0 && this.consecutive >= this.consecutiveLimit && b.closed) b.open();
    });
    this.unregister = options.registry?.register(this);
  }

  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
    if (this.rotationDue) this.rotate();
    else if (this.rotationTimer === undefined && !this.disposed) this.armRotation(Date.now());
    const b = this.breaker;
    if (!b.closed && !b.pendingClose) return Promise.reject(this.rejection(Date.now()));
    return b.fire(fn as PolicyTask<unknown>, context) as Promise<T>;
  }

  get state(): CircuitState {
    return this.current;
  }

  get isOpen(): boolean {
    return !this.breaker.closed && !this.breaker.pendingClose;
  }

  stats(): CircuitBreakerStats {
    if (this.rotationDue) this.rotate();
    const now = Date.now();
    const counts = this.breaker.stats;
    return {
      name: this.name,
      state: this.current,
      window: this.windowMs,
      calls: counts.fires,
      successes: counts.successes,
      failures: counts.failures,
      rejected: counts.rejects,
      consecutiveFailures: this.consecutive,
      openedAt: this.openedAt,
      retryAfterMs: this.retryAfter(now),
      lastFailure: this.lastFailure,
    };
  }

  onStateChange(listener: (change: CircuitStateChange) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  onReject(listener: (error: BrokenCircuitError) => void): () => void {
    this.rejectListeners = [...this.rejectListeners, listener];
    return () => {
      this.rejectListeners = this.rejectListeners.filter((l) => l !== listener);
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unregister?.();
    this.unregister = undefined;
    if (this.rotationTimer !== undefined) clearTimeout(this.rotationTimer);
    this.rotationTimer = undefined;
    this.breaker.shutdown();
  }

  /**
   * The window's buckets rotate lazily: a timer armed while the breaker is in use only flags that a
   * bucket ended, and the next call (or read) rotates. No clock read per call, and no interval that
   * runs while the breaker is idle (or makes a test's `runAllTimers` spin).
   */
  private rotate(): void {
    this.rotationDue = false;
    const now = Date.now();
    if (now >= this.nextRotation) {
      const steps = Math.floor((now - this.nextRotation) / this.bucketMs) + 1;
      for (let i = 0; i < Math.min(steps, this.buckets); i++) this.rotation.emit('rotate');
      this.nextRotation += steps * this.bucketMs;
    }
    if (!this.disposed) this.armRotation(now);
  }

  private armRotation(now: number): void {
    if (this.rotationTimer !== undefined) clearTimeout(this.rotationTimer);
    this.rotationTimer = setTimeout(this.onRotationTimer, Math.max(1, Math.ceil(this.nextRotation - now)));
    this.rotationTimer.unref();
  }

  private retryAfter(now: number): number | undefined {
    if (this.current !== 'open' || this.openedAt === undefined) return undefined;
    return Math.max(0, this.openedAt + this.halfOpenAfter - now);
  }

  private rejection(now: number): BrokenCircuitError {
    const state = this.current;
    const retryAfterMs = this.retryAfter(now);
    const message = this.disposed
      ? `circuit breaker "${this.name}" was disposed (its app stopped); the call was not made`
      : state === 'half-open'
        ? `circuit breaker "${this.name}" is half-open and its probe call is still running; the call was not made`
        : `circuit breaker "${this.name}" is open after repeated failures; the call was not made. A probe is let through in ${retryAfterMs ?? 0} ms`;
    const error = new BrokenCircuitError(message, {
      details: { breaker: this.name, state, retryAfterMs: retryAfterMs ?? 0 },
      cause: this.lastError,
    });
    if (!this.disposed) this.breaker.emit('reject', error);
    for (const listener of this.rejectListeners) {
      try {
        listener(error);
      } catch {
        // A listener's bug must not break the breaker.
      }
    }
    return error;
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const at = Date.now();
    if (to === 'open') this.openedAt = at;
    if (to === 'closed') this.consecutive = 0;
    const change: CircuitStateChange =
      to === 'open'
        ? { breaker: this.name, from, to, at, error: this.lastError }
        : { breaker: this.name, from, to, at };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not break the breaker.
      }
    }
  }
}
