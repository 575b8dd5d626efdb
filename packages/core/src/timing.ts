/** Waiting, and the errors of a wait or a call that is interrupted. */
import { AbortedError, type BlueprintError, isBlueprintError } from './errors.js';

/**
 * The error a call ends with when `signal` aborts: the signal's reason when it is a coded error (a
 * `TimeoutError` from a deadline), else `ABORTED` naming `subject`.
 */
export function abortError(reason: unknown, subject: string): BlueprintError {
  if (isBlueprintError(reason)) return reason;
  return new AbortedError(`${subject} was aborted by the caller`, { cause: reason });
}

/**
 * Waits `ms` milliseconds; rejects with {@link abortError} as soon as `signal` aborts. The timer does not
 * keep the process alive.
 *
 * @example
 * await delay(backoff(attempt), context.signal, 'retry of prices.get');
 */
export function delay(ms: number, signal?: AbortSignal, subject = 'the wait'): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal.reason, subject));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!.reason, subject));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves when `promise` settles or after `ms`, whichever comes first; never rejects; leaves no timer
 * (and the timer does not keep the process alive).
 *
 * @example
 * await settleWithin(client.quit(), 250);
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
