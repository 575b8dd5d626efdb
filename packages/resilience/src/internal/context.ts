/**
 * Context plumbing shared by the policies: reading a caller's signal without creating lazy ones, and
 * turning an abort into the coded error the caller sees.
 */
import { AbortedError, isBlueprintError } from '@blueprint/core';
import type { PolicyContext } from '../policy.js';

/** Implemented by contexts whose signal is created on first read (timeouts, retry attempts). */
export const PEEK_SIGNAL: unique symbol = Symbol('blueprint.resilience.peekSignal');

/** A context that can tell whether its signal exists without creating it. */
export interface PeekableContext extends PolicyContext {
  /** The signal if it already exists (or is a caller's real signal), without creating one. */
  [PEEK_SIGNAL](): AbortSignal | undefined;
}

/**
 * The caller's signal when it already exists, without triggering a lazy one. A plain object's own
 * `signal` counts; a getter on a prototype (a lazy context of core's RPC server) does not.
 */
export function peekSignal(context: PolicyContext | undefined): AbortSignal | undefined {
  if (context === undefined) return undefined;
  const peek = (context as Partial<PeekableContext>)[PEEK_SIGNAL];
  if (peek !== undefined) return peek.call(context);
  return Object.hasOwn(context, 'signal') ? context.signal : undefined;
}

/** The error a policy rejects with when `signal` aborted: its coded reason, or `ABORTED`. */
export function abortError(signal: AbortSignal, subject: string): unknown {
  const reason: unknown = signal.reason;
  if (isBlueprintError(reason)) return reason;
  return new AbortedError(`${subject} was aborted by the caller`, { cause: reason });
}

/** True when `value` has a callable `then`. */
export function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
