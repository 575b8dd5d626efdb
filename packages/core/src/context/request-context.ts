/**
 * The request context: what travels with a call or an event delivery without application code passing
 * it — the deadline, the correlation id and trace context (in the propagated headers), the abort signal,
 * and the calling process (from service auth). One `AsyncLocalStorage` owned by core.
 *
 * It is set where work enters a process: the RPC server (each served call), the HTTP edge (each
 * request), the event bus (each delivery). It is read by everything downstream in the same async flow:
 * local and remote calls (their deadline, headers and signal when the caller passes none), event
 * publishing (the envelope's headers), the cache (loader deadlines) and the resilience policies (a
 * deadline caps timeouts and retries). An explicit `CallContext` argument still overrides.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallContext } from '../contract.js';

/** The context of the call or delivery being handled. */
export interface RequestContext extends CallContext {
  /** Absolute deadline, epoch ms. */
  readonly deadline?: number | undefined;
  /** Propagated headers: `x-correlation-id`, `traceparent`, `tracestate`, `baggage`. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Aborted when the work is no longer wanted (the caller went away, its deadline passed). */
  readonly signal?: AbortSignal | undefined;
  /** The verified calling process, when calls are authenticated. */
  readonly caller?: string | undefined;
}

let storage: AsyncLocalStorage<RequestContext> | undefined;

/**
 * The context of the call or delivery being handled, or undefined outside one (a test calling a client
 * directly, a timer of the app's own).
 *
 * @example
 * const correlationId = requestContext()?.headers?.['x-correlation-id'];
 */
export function requestContext(): RequestContext | undefined {
  return storage?.getStore();
}

/**
 * Runs `fn` with `context` as the request context (edges and transports call it; applications rarely
 * need to). The storage is created on first use, so a process where nothing enters it pays nothing.
 */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  storage ??= new AsyncLocalStorage<RequestContext>();
  return storage.run(context, fn);
}

/**
 * The context a call goes out with: the caller's explicit one, completed from the request context
 * (deadline, headers, signal) for what it leaves out. Returns `explicit` itself when there is nothing to
 * add.
 */
export function withRequestContext(explicit: CallContext | undefined): CallContext | undefined {
  const current = storage?.getStore();
  if (current === undefined) return explicit;
  if (explicit === undefined) return current;
  const deadline = explicit.deadline ?? (explicit.timeout === undefined ? current.deadline : undefined);
  const merged: CallContext = {
    ...explicit,
    deadline:
      deadline !== undefined && current.deadline !== undefined
        ? Math.min(deadline, current.deadline)
        : deadline,
    headers: explicit.headers === undefined ? current.headers : { ...current.headers, ...explicit.headers },
    signal: explicit.signal ?? current.signal,
  };
  return merged;
}
