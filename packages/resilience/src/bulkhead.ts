/**
 * `bulkhead`: limits how many calls run at once, with a bounded queue, so one slow dependency cannot
 * take every socket, connection or worker of the process.
 */

import { z } from 'zod';
import { BulkheadRejectedError } from './errors.js';
import { abortError, peekSignal } from './internal/context.js';
import { durationOf, parsePolicyOptions, wholeNumber } from './internal/option-schemas.js';
import { EMPTY_CONTEXT, type Policy, type PolicyContext, type PolicyTask } from './policy.js';

/**
 * The bulkhead options a topology file may set too (`policies.*.bulkhead`): their checks, shared by
 * {@link bulkhead}, `@Bulkhead` and the `policies` section.
 */
export const bulkheadOptionFields = {
  /** A whole number >= 1. */
  maxConcurrent: wholeNumber(1),
  /** A whole number >= 0. */
  maxQueue: wholeNumber(0),
  /** A duration of at least 1 ms. */
  maxWait: durationOf(1),
};

/** The options of {@link bulkhead} and `@Bulkhead`: their type, defaults and checks. */
export const bulkheadOptionsSchema = z.strictObject({
  /** Name in errors. Default `"bulkhead"`. */
  name: z.string().default('bulkhead'),
  /** Calls allowed to run at the same time. Required, >= 1. */
  maxConcurrent: bulkheadOptionFields.maxConcurrent,
  /** Calls allowed to wait for a slot; beyond it calls are rejected at once. Default 0 (no queue). */
  maxQueue: bulkheadOptionFields.maxQueue.default(0),
  /** Longest wait in the queue before the call is rejected. Default: no limit (the caller's signal still applies). */
  maxWait: bulkheadOptionFields.maxWait.optional(),
});

/** Options of {@link bulkhead}; see {@link bulkheadOptionsSchema} for each one. */
export type BulkheadOptions = z.input<typeof bulkheadOptionsSchema>;

/** A policy made by {@link bulkhead}. */
export interface BulkheadPolicy extends Policy {
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /**
   * Calls `listener` with the error of every call the bulkhead rejects (full, waited past `maxWait`,
   * or queued when it was disposed); returns a function that removes it.
   */
  onReject(listener: (error: BulkheadRejectedError) => void): () => void;
  /** Rejects the queued calls (`BULKHEAD_REJECTED`) and clears their timers. */
  dispose(): void;
}

/**
 * Runs at most `maxConcurrent` calls at once; up to `maxQueue` more wait in order for a slot. Any other
 * call is rejected immediately with `BulkheadRejectedError` (`BULKHEAD_REJECTED`), so overload turns
 * into fast, coded errors instead of a growing backlog. A queued call leaves the queue when its
 * caller's signal aborts or after `maxWait`.
 *
 * @example
 * const limit = bulkhead({ name: 'reports', maxConcurrent: 4, maxQueue: 16, maxWait: '1s' });
 * const report = await limit.execute(() => buildReport(id));
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicyImpl(options);
}

interface Waiter {
  readonly fn: PolicyTask<unknown>;
  readonly context: PolicyContext | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

class BulkheadPolicyImpl implements BulkheadPolicy {
  active = 0;
  private readonly name: string;
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private readonly maxWait: number | undefined;
  private readonly waiting: Waiter[] = [];
  private rejectListeners: ((error: BulkheadRejectedError) => void)[] = [];
  private readonly release = () => {
    this.active--;
    this.drain();
  };

  constructor(input: BulkheadOptions) {
    const subject = `bulkhead "${input?.name ?? 'bulkhead'}"`;
    const options = parsePolicyOptions(bulkheadOptionsSchema, input, subject);
    this.name = options.name;
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = options.maxQueue;
    this.maxWait = options.maxWait;
  }

  get queued(): number {
    return this.waiting.length;
  }

  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return this.run(fn, context);
    }
    if (this.waiting.length < this.maxQueue) return this.enqueue(fn, context);
    return Promise.reject(this.rejection('full'));
  }

  onReject(listener: (error: BulkheadRejectedError) => void): () => void {
    this.rejectListeners = [...this.rejectListeners, listener];
    return () => {
      this.rejectListeners = this.rejectListeners.filter((l) => l !== listener);
    };
  }

  dispose(): void {
    const waiting = this.waiting.splice(0);
    for (const waiter of waiting) {
      this.forget(waiter);
      waiter.reject(this.rejection('disposed'));
    }
  }

  private run<T>(fn: PolicyTask<T>, context: PolicyContext | undefined): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(fn(context ?? EMPTY_CONTEXT));
    } catch (error) {
      this.release();
      return Promise.reject(error);
    }
    promise.then(this.release, this.release);
    return promise;
  }

  private enqueue<T>(fn: PolicyTask<T>, context: PolicyContext | undefined): Promise<T> {
    const signal = peekSignal(context) ?? context?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, this.name));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        fn: fn as PolicyTask<unknown>,
        context,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          if (this.remove(waiter)) reject(abortError(signal, this.name));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (this.maxWait !== undefined) {
        waiter.timer = setTimeout(() => {
          if (this.remove(waiter)) reject(this.rejection('max-wait'));
        }, this.maxWait);
      }
      this.waiting.push(waiter);
    });
  }

  private drain(): void {
    while (this.active < this.maxConcurrent && this.waiting.length > 0) {
      const waiter = this.waiting.shift()!;
      this.forget(waiter);
      this.active++;
      this.run(waiter.fn, waiter.context).then(waiter.resolve, waiter.reject);
    }
  }

  private remove(waiter: Waiter): boolean {
    const index = this.waiting.indexOf(waiter);
    if (index === -1) return false;
    this.waiting.splice(index, 1);
    this.forget(waiter);
    return true;
  }

  private forget(waiter: Waiter): void {
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private rejection(reason: 'full' | 'max-wait' | 'disposed'): BulkheadRejectedError {
    const what =
      reason === 'full'
        ? `all ${this.maxConcurrent} slots are busy and the queue of ${this.maxQueue} is full`
        : reason === 'max-wait'
          ? `the call waited ${this.maxWait} ms for a slot (maxWait)`
          : 'the bulkhead was disposed (its app stopped)';
    const error = new BulkheadRejectedError(
      `bulkhead "${this.name}" rejected the call: ${what}. Raise maxConcurrent or maxQueue, or shed load upstream`,
      {
        details: { bulkhead: this.name, maxConcurrent: this.maxConcurrent, maxQueue: this.maxQueue, reason },
      },
    );
    for (const listener of this.rejectListeners) {
      try {
        listener(error);
      } catch {
        // A listener's bug must not break the bulkhead.
      }
    }
    return error;
  }
}
