/**
 * Bridges between core's `CallContext` (what a contract method receives) and a `PolicyContext`.
 */
import type { CallContext } from '@blueprint/core';
import { callDeadline } from '@blueprint/core/plugin';
import type { PolicyContext } from '../policy.js';
import { PEEK_SIGNAL, type PeekableContext } from './context.js';

/**
 * The caller's call context seen as a policy context. Its `signal` is read only when needed (core's
 * RPC server creates it lazily), and a relative `timeout` becomes a deadline.
 */
export class CallerContext implements PeekableContext {
  readonly deadline: number | undefined;

  constructor(private readonly call: CallContext) {
    this.deadline = callDeadline(call);
  }

  get signal(): AbortSignal | undefined {
    return this.call.signal;
  }

  [PEEK_SIGNAL](): AbortSignal | undefined {
    return Object.hasOwn(this.call, 'signal') ? this.call.signal : undefined;
  }
}

/** The policy context for a call, or undefined when the caller passed none. */
export function policyContextOf(call: CallContext | undefined): PolicyContext | undefined {
  return call === undefined ? undefined : new CallerContext(call);
}

/**
 * The call context handed to the method for one attempt: the attempt's signal (read lazily) and
 * deadline, the caller's propagated headers.
 */
export class AttemptCallContext implements CallContext {
  constructor(
    private readonly call: CallContext | undefined,
    private readonly attempt: PolicyContext,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.attempt.signal;
  }

  get deadline(): number | undefined {
    return this.attempt.deadline;
  }

  get headers(): Readonly<Record<string, string>> | undefined {
    return this.call?.headers;
  }
}

/** The call context for one remote attempt: signal, deadline and headers, read eagerly. */
export function remoteCallContext(call: CallContext | undefined, attempt: PolicyContext): CallContext {
  const headers = call?.headers;
  const context: { signal?: AbortSignal; deadline?: number; headers?: Readonly<Record<string, string>> } = {};
  const signal = attempt.signal;
  if (signal !== undefined) context.signal = signal;
  const deadline = attempt.deadline;
  if (deadline !== undefined) context.deadline = deadline;
  if (headers !== undefined) context.headers = headers;
  return context;
}
