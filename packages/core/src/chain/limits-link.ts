/**
 * The limits link (the `context` stage): a local call goes out with the request's deadline, headers and
 * signal where the caller passes none (what the context link does for remote calls), honours the caller's
 * `signal`, `timeout` and `deadline` as a remote transport does, and the callee runs in a request context
 * that carries them, so the calls it makes carry them on. The call ends with `ABORTED` (or the signal's
 * coded reason) or `TIMEOUT`, and the implementation receives a signal that aborts with the same error.
 */

import { requestContext, runWithRequestContext, withRequestContext } from '../context/request-context.js';
import { type CallContext, callDeadline } from '../contract.js';
import { type BlueprintError, TimeoutError } from '../errors.js';
import { abortError } from '../timing.js';
import type { Invocation, Link } from './link.js';
import { isPlainLocalCall, type LocalCallOptions } from './validation-link.js';

/** The limits link of a process. It stays out of plain local calls (see {@link isPlainLocalCall}). */
export function limitsLink(local: LocalCallOptions): Link {
  const plain = isPlainLocalCall(local);
  return {
    name: 'limits',
    stage: 'context',
    wrap(target) {
      if (plain || target.entry !== 'call' || target.placement !== 'local') return undefined;
      if (target.contract === undefined || target.definition === undefined) return undefined;
      const subject = `${target.contract.name}.${target.method}`;
      return (next) => (input: unknown, explicit?: CallContext) => {
        // Nothing new for the callee: the request context it runs in (if any) already says it all.
        if (explicit === undefined) return next(input, requestContext());
        const context = withRequestContext(explicit)!;
        if (context.signal !== undefined || context.timeout !== undefined || context.deadline !== undefined) {
          return callWithLimits(next, input, context, subject);
        }
        return runWithRequestContext(context, () => next(input, context));
      };
    },
  };
}

async function callWithLimits(
  call: Invocation,
  input: unknown,
  context: CallContext,
  subject: string,
): Promise<unknown> {
  const callerSignal = context.signal;
  if (callerSignal?.aborted) throw abortError(callerSignal.reason, subject);
  const deadline = callDeadline(context);
  const timeoutMs = deadline === undefined ? undefined : deadline - Date.now();
  if (timeoutMs !== undefined && timeoutMs <= 0) {
    throw new TimeoutError(`${subject}: the deadline passed before the call was made`, {
      details: { timeoutMs: 0 },
    });
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<never>((_resolve, reject) => {
    const stop = (error: BlueprintError) => {
      controller.abort(error);
      reject(error);
    };
    if (callerSignal !== undefined) {
      onAbort = () => stop(abortError(callerSignal.reason, subject));
      callerSignal.addEventListener('abort', onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          stop(new TimeoutError(`${subject} timed out after ${timeoutMs} ms`, { details: { timeoutMs } })),
        timeoutMs,
      );
      timer.unref();
    }
  });
  try {
    const limited: CallContext = { ...context, signal: controller.signal, deadline };
    return await Promise.race([runWithRequestContext(limited, () => call(input, limited)), interrupted]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) callerSignal?.removeEventListener('abort', onAbort);
  }
}
