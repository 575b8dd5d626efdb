/**
 * `timeout`: bounds one run of a function in time, through an `AbortSignal` the work can honour.
 */
import { type Duration, TimeoutError } from '@blueprint/core';
import { DeadlineEntry, DeadlineQueue } from '@blueprint/core/plugin';
import { abortError, isThenable, PEEK_SIGNAL, type PeekableContext, peekSignal } from './internal/context.js';
import { durationOf, parsePolicyOptions } from './internal/option-schemas.js';
import type { Policy, PolicyContext, PolicyTask } from './policy.js';

/**
 * The limit of a timeout: a duration of at least 1 ms. Shared by {@link timeout}, `@Timeout` and the
 * `timeout` and `deadline` keys of the `policies` section.
 */
export const timeoutSchema = durationOf(1);

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** What is timed, for error messages (`"products.get"`). Default: `"operation"`. */
  readonly name?: string;
}

/** A policy made by {@link timeout}. */
export interface TimeoutPolicy extends Policy {
  /** The time limit in milliseconds. */
  readonly ms: number;
  /** Clears the policy's timer and times out the calls still running. */
  dispose(): void;
}

/**
 * Bounds each run of `fn` to `ms` milliseconds (or to the context's `deadline`, when that is sooner).
 * When the time is up, the returned promise rejects with `TimeoutError` (`TIMEOUT`, `details.timeoutMs`)
 * and the signal handed to `fn` aborts with that same error as its reason, so a fetch, an undici
 * request or a database driver given the signal stops too. A caller's signal aborting rejects the
 * call with the abort reason (`ABORTED` unless the reason is a coded error).
 *
 * Cost on the success path: no timer per call (one timer per policy serves every pending call) and no
 * `AbortController` unless `fn` reads `context.signal`.
 *
 * @example
 * const price = await timeout('500ms', { name: 'prices.get' }).execute(({ signal }) => fetch(url, { signal }));
 */
export function timeout(ms: Duration, options: TimeoutOptions = {}): TimeoutPolicy {
  return new TimeoutPolicyImpl(
    parsePolicyOptions(timeoutSchema, ms, 'timeout(ms)'),
    options.name ?? 'operation',
  );
}

const PENDING = 0;
const SETTLED = 1;

class TimeoutPolicyImpl implements TimeoutPolicy {
  /** @internal */
  readonly queue = new DeadlineQueue();

  constructor(
    readonly ms: number,
    /** @internal */
    readonly name: string,
  ) {}

  execute<T>(fn: PolicyTask<T>, context?: PolicyContext): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = Date.now();
      let deadline = now + this.ms;
      let capped = false;
      let callerSignal: AbortSignal | undefined;
      if (context !== undefined) {
        const parentDeadline = context.deadline;
        if (parentDeadline !== undefined && parentDeadline < deadline) {
          deadline = parentDeadline;
          capped = true;
        }
        callerSignal = peekSignal(context);
      }
      const scope = new TimeoutScope(this, context, deadline, capped, resolve, reject);
      if (callerSignal !== undefined) {
        if (callerSignal.aborted) {
          scope.finish(false, abortError(callerSignal, this.name));
          return;
        }
        scope.listen(callerSignal);
      }
      if (deadline <= now) {
        scope.expire();
        return;
      }
      this.queue.add(scope);
      let result: PromiseLike<T> | T;
      try {
        result = fn(scope);
      } catch (error) {
        scope.finish(false, error);
        return;
      }
      if (isThenable<T>(result)) result.then(scope.fulfil, scope.fail);
      else scope.finish(true, result);
    });
  }

  dispose(): void {
    this.queue.dispose();
  }
}

/** One run under a timeout: its queue entry, the context handed to `fn`, and its settlement. */
class TimeoutScope<T = unknown> extends DeadlineEntry implements PeekableContext {
  private state = PENDING;
  private controller: AbortController | undefined;
  private linked: AbortSignal | undefined;
  private abortedWith: unknown;
  readonly fulfil: (value: T) => void;
  readonly fail: (error: unknown) => void;

  constructor(
    private readonly policy: TimeoutPolicyImpl,
    private readonly parent: PolicyContext | undefined,
    deadline: number,
    private readonly capped: boolean,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super();
    this.deadline = deadline;
    this.fulfil = (value) => this.finish(true, value);
    this.fail = (error) => this.finish(false, error);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.state !== PENDING) {
        if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith);
      } else if (this.linked === undefined) {
        const parentSignal = this.parent?.signal;
        if (parentSignal !== undefined) {
          if (parentSignal.aborted) this.handleEvent();
          else this.listen(parentSignal);
        }
      }
    }
    return this.controller.signal;
  }

  get attempt(): number | undefined {
    return this.parent?.attempt;
  }

  [PEEK_SIGNAL](): AbortSignal | undefined {
    return this.controller?.signal;
  }

  listen(signal: AbortSignal): void {
    this.linked = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** The linked signal aborted. */
  handleEvent(): void {
    const signal = this.linked ?? this.parent?.signal;
    if (signal === undefined) return;
    const error = abortError(signal, this.policy.name);
    this.abort(error);
    this.finish(false, error);
  }

  expire(): void {
    if (this.state !== PENDING) return;
    const { ms, name } = this.policy;
    const error = this.capped
      ? new TimeoutError(`${name} ran out of its deadline`, {
          details: { timeoutMs: ms, deadline: this.deadline },
        })
      : new TimeoutError(`${name} timed out after ${ms} ms`, { details: { timeoutMs: ms } });
    this.abort(error);
    this.finish(false, error);
  }

  finish(ok: boolean, value: unknown): void {
    if (this.state !== PENDING) return;
    this.state = SETTLED;
    this.policy.queue.remove(this);
    if (this.linked !== undefined) {
      this.linked.removeEventListener('abort', this);
      this.linked = undefined;
    }
    if (ok) this.resolve(value as T);
    else this.reject(value);
  }

  private abort(error: unknown): void {
    this.abortedWith = error;
    this.controller?.abort(error);
  }
}
