/**
 * `circuitBreaker`: stops calling a dependency that keeps failing, fails fast while it is open, and
 * lets one probe through after a while to find out whether it is back. Opossum's state machine and
 * counting rules (a rolling window of buckets, a failure rate over a minimum volume, one half-open
 * probe), without its per-call events, promise and clock reads.
 */
import { z } from 'zod';
import type {
  CircuitBreakerPolicy,
  CircuitBreakerStats,
  CircuitState,
  CircuitStateChange,
} from './breaker-policy.js';
import type { BreakerRegistry } from './breaker-registry.js';
import { BrokenCircuitError, isDependencyFailure } from './errors.js';
import {
  durationOf,
  functionOf,
  numberWithin,
  orOff,
  parsePolicyOptions,
  wholeNumber,
} from './internal/option-schemas.js';
import { EMPTY_CONTEXT, type PolicyContext, type PolicyTask } from './policy.js';

/**
 * The breaker options a topology file may set too (`policies.*.breaker`): their checks, shared by
 * {@link circuitBreaker}, `@CircuitBreaker` and the `policies` section.
 */
export const breakerOptionFields = {
  /** A percentage from 0 to 100, or `false`. */
  failureRate: orOff(
    numberWithin(0, 100, 'a percentage from 0 to 100, e.g. 50'),
    'a percentage from 0 to 100',
  ),
  /** A whole number >= 0. */
  minimumCalls: wholeNumber(0),
  /** A whole number >= 1, or `false`. */
  consecutiveFailures: orOff(wholeNumber(1), 'a whole number >= 1'),
  /** A duration of at least 1 ms (and one per bucket). */
  window: durationOf(1),
  /** A duration of at least 1 ms. */
  halfOpenAfter: durationOf(1),
};

const circuitBreakerFields = {
  /** Name in errors, stats, readiness checks and the registry. Default `"circuit-breaker"`. */
  name: z.string().default('circuit-breaker'),
  /**
   * Opens when more than this percentage of the calls in the window failed (once `minimumCalls` ran).
   * `false` disables the rule (use `consecutiveFailures` alone). Default 50.
   */
  failureRate: breakerOptionFields.failureRate.default(50),
  /** Calls the window must hold before `failureRate` is judged. Default 10. */
  minimumCalls: breakerOptionFields.minimumCalls.default(10),
  /** Opens after this many failures in a row, whatever the window holds. Default `false` (off). */
  consecutiveFailures: breakerOptionFields.consecutiveFailures.default(false),
  /** Length of the rolling window of counts, at least 1 ms per bucket. Default `"10s"`. */
  window: breakerOptionFields.window.default(10_000),
  /** Buckets of the window, from 1 to 1000: counts expire one bucket at a time. Default 10. */
  buckets: wholeNumber(1, 1000).default(10),
  /** How long the breaker stays open before it lets one probe call through. Default `"10s"`. */
  halfOpenAfter: breakerOptionFields.halfOpenAfter.default(10_000),
  /**
   * Which errors count as failures. Default {@link isDependencyFailure}: everything except coded
   * answers below 500 (`NOT_FOUND`, `VALIDATION_FAILED`, `ABORTED`, ...), which prove the dependency
   * works, and errors it relayed from its own dependencies.
   */
  isFailure: functionOf<(error: unknown) => boolean>().default(() => isDependencyFailure),
};

function checkCanOpen(
  options: {
    failureRate: number | false;
    consecutiveFailures: number | false;
    window: number;
    buckets: number;
  },
  ctx: z.RefinementCtx,
): void {
  if (options.failureRate === false && options.consecutiveFailures === false) {
    ctx.addIssue({
      code: 'custom',
      message: 'can never open: failureRate is false and consecutiveFailures is off; set one of them',
    });
  }
  if (options.window < options.buckets) {
    ctx.addIssue({
      code: 'custom',
      path: ['window'],
      message: `use at least 1 ms per bucket: ${options.buckets} ms or more with ${options.buckets} buckets (got ${options.window} ms)`,
    });
  }
}

/** The options of {@link circuitBreaker}: their type, defaults and checks. */
const circuitBreakerOptionsSchema = z
  .strictObject({
    ...circuitBreakerFields,
    /** Registers the breaker here (and unregisters it on `dispose()`). Default: none. */
    registry: z.custom<BreakerRegistry>().optional(),
  })
  .superRefine(checkCanOpen);

/** The options of `@CircuitBreaker`: those of {@link circuitBreaker} but `registry` (the app's is used). */
export const circuitBreakerDecoratorSchema = z.strictObject(circuitBreakerFields).superRefine(checkCanOpen);

/** Options of {@link circuitBreaker}; see {@link circuitBreakerOptionsSchema} for each one. */
export type CircuitBreakerOptions = z.input<typeof circuitBreakerOptionsSchema>;

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
  return new BreakerPolicyImpl(options);
}

function describeFailure(error: unknown, at: number): CircuitBreakerStats['lastFailure'] {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : undefined, message, at };
}

/** The counts of one bucket of the rolling window. */
class Bucket {
  fires = 0;
  successes = 0;
  failures = 0;
  rejects = 0;

  clear(): void {
    this.fires = 0;
    this.successes = 0;
    this.failures = 0;
    this.rejects = 0;
  }
}

class BreakerPolicyImpl implements CircuitBreakerPolicy {
  readonly name: string;
  private readonly windowMs: number;
  private readonly bucketMs: number;
  /** The rolling window: `window[head]` counts the current bucket. */
  private readonly window: Bucket[];
  private head = 0;
  private nextRotation: number;
  private rotationDue = false;
  private rotationTimer: NodeJS.Timeout | undefined;
  private readonly onRotationTimer = () => {
    this.rotationTimer = undefined;
    this.rotationDue = true;
  };
  private readonly halfOpenAfter: number;
  private readonly halfOpenTimerDone = () => {
    this.halfOpenTimer = undefined;
    this.probeAllowed = true;
    this.transition('half-open');
  };
  private halfOpenTimer: NodeJS.Timeout | undefined;
  private readonly consecutiveLimit: number;
  /** Opens above this failure percentage; 100 when the rate rule is off (no rate is above 100). */
  private readonly threshold: number;
  private readonly minimumCalls: number;
  private readonly isFailure: (error: unknown) => boolean;
  private current: CircuitState = 'closed';
  /** Half-open and no probe let through yet. */
  private probeAllowed = false;
  private consecutive = 0;
  private openedAt: number | undefined;
  private lastError: unknown;
  private lastFailure: CircuitBreakerStats['lastFailure'];
  private listeners: ((change: CircuitStateChange) => void)[] = [];
  private rejectListeners: ((error: BrokenCircuitError) => void)[] = [];
  private unregister: (() => void) | undefined;
  private disposed = false;
  private readonly onValue = (value: unknown) => {
    this.succeeded();
    return value;
  };
  private readonly onError = (error: unknown): never => {
    this.failed(error);
    throw error;
  };

  constructor(input: CircuitBreakerOptions) {
    const options = parsePolicyOptions(
      circuitBreakerOptionsSchema,
      input,
      `breaker "${input.name ?? 'circuit-breaker'}"`,
    );
    this.name = options.name;
    this.consecutiveLimit = options.consecutiveFailures === false ? 0 : options.consecutiveFailures;
    this.windowMs = options.window;
    this.bucketMs = this.windowMs / options.buckets;
    this.window = Array.from({ length: options.buckets }, () => new Bucket());
    this.halfOpenAfter = options.halfOpenAfter;
    this.threshold = options.failureRate === false ? 100 : options.failureRate;
    this.minimumCalls = options.minimumCalls;
    this.isFailure = options.isFailure;
    this.nextRotation = Date.now() + this.bucketMs;
    this.unregister = options.registry?.register(this);
  }

  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
    if (this.rotationDue) this.rotate();
    else if (this.rotationTimer === undefined && !this.disposed) this.armRotation(Date.now());
    if (this.current !== 'closed' || this.disposed) {
      if (!this.probeAllowed || this.disposed) return Promise.reject(this.rejection(Date.now()));
      this.probeAllowed = false;
    }
    this.window[this.head]!.fires++;
    let result: PromiseLike<T> | T;
    try {
      result = fn(context ?? EMPTY_CONTEXT);
    } catch (error) {
      this.failed(error);
      return Promise.reject(error);
    }
    return Promise.resolve(result).then(this.onValue as (value: T) => T, this.onError);
  }

  get state(): CircuitState {
    return this.current;
  }

  get isOpen(): boolean {
    return this.disposed || (this.current !== 'closed' && !this.probeAllowed);
  }

  stats(): CircuitBreakerStats {
    if (this.rotationDue) this.rotate();
    const now = Date.now();
    const counts = new Bucket();
    for (const bucket of this.window) {
      counts.fires += bucket.fires;
      counts.successes += bucket.successes;
      counts.failures += bucket.failures;
      counts.rejects += bucket.rejects;
    }
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
    if (this.halfOpenTimer !== undefined) clearTimeout(this.halfOpenTimer);
    this.halfOpenTimer = undefined;
    this.probeAllowed = false;
  }

  /** A call ended well, or with an error that is not a failure (an answer of the dependency). */
  private succeeded(): void {
    if (this.disposed) return;
    this.window[this.head]!.successes++;
    this.consecutive = 0;
    if (this.current === 'half-open') this.close();
  }

  private failed(error: unknown): void {
    if (this.disposed) return;
    if (!this.isFailure(error)) {
      this.succeeded();
      return;
    }
    if (this.rotationDue) this.rotate();
    this.window[this.head]!.failures++;
    this.consecutive++;
    this.lastError = error;
    this.lastFailure = describeFailure(error, Date.now());
    if (this.current === 'half-open') {
      this.open();
      return;
    }
    if (this.consecutiveLimit > 0 && this.consecutive >= this.consecutiveLimit) {
      this.open();
      return;
    }
    let fires = 0;
    let failures = 0;
    for (const bucket of this.window) {
      fires += bucket.fires;
      failures += bucket.failures;
    }
    if (fires >= this.minimumCalls && (failures / fires) * 100 > this.threshold) this.open();
  }

  private open(): void {
    if (this.current === 'open') return;
    this.probeAllowed = false;
    this.transition('open');
    this.halfOpenTimer = setTimeout(this.halfOpenTimerDone, this.halfOpenAfter);
    this.halfOpenTimer.unref();
  }

  private close(): void {
    if (this.halfOpenTimer !== undefined) clearTimeout(this.halfOpenTimer);
    this.halfOpenTimer = undefined;
    this.probeAllowed = false;
    this.transition('closed');
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
      for (let i = 0; i < Math.min(steps, this.window.length); i++) {
        this.head = (this.head + 1) % this.window.length;
        this.window[this.head]!.clear();
      }
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
    if (!this.disposed) this.window[this.head]!.rejects++;
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
