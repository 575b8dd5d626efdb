/**
 * Coded errors of @blueprint/resilience: one table, every class made with core's `defineError`.
 *
 * Every error has a stable `code`, a message naming the policy and what to do, JSON-safe `details`
 * and the `cause`. Guards compare `code`, never `instanceof`, so two installed copies agree and an
 * error rebuilt from the wire (a `ServiceError` with the same code) is recognised too.
 *
 * The package entry re-exports this whole module: everything exported here is public.
 */
import {
  BlueprintError,
  type CodedErrorClass,
  defineError,
  type ErrorOptions,
  errorCodesOf,
  errorGuard,
  relayedFrom,
  TimeoutError,
} from '@blueprint/core';

export { isTimeoutError, TimeoutError } from '@blueprint/core';

/**
 * A circuit breaker is open (or half-open with its probe in flight) and refused the call without
 * running it (`CIRCUIT_OPEN`, 503). `details`: `{ breaker, state, retryAfterMs }`. Not retried by
 * default: retrying into an open breaker only burns attempts.
 */
export const BrokenCircuitError = defineError('CIRCUIT_OPEN', 503, {
  name: 'BrokenCircuitError',
  base: BlueprintError,
});
/** An instance of {@link BrokenCircuitError}. */
export type BrokenCircuitError = BlueprintError;

/**
 * A bulkhead is full: every slot is busy and the queue is full, or the call waited longer than
 * `maxWait` (`BULKHEAD_REJECTED`, 503). Rejected at once, never queued without bound.
 * `details`: `{ bulkhead, maxConcurrent, maxQueue, reason }`.
 */
export const BulkheadRejectedError = defineError('BULKHEAD_REJECTED', 503, {
  name: 'BulkheadRejectedError',
  base: BlueprintError,
});
/** An instance of {@link BulkheadRejectedError}. */
export type BulkheadRejectedError = BlueprintError;

/**
 * A policy was given an invalid option; the message names the option, the bad value and what is
 * allowed (`RESILIENCE_INVALID_OPTIONS`, 500).
 */
export const ResilienceOptionsError = defineError('RESILIENCE_INVALID_OPTIONS', 500, {
  name: 'ResilienceOptionsError',
  base: BlueprintError,
});
/** An instance of {@link ResilienceOptionsError}. */
export type ResilienceOptionsError = BlueprintError;

/** Options of {@link RetryExhaustedError}. */
export interface RetryExhaustedErrorOptions extends ErrorOptions {
  /** The error of every attempt, first to last. The last one is also `cause`. */
  causes?: readonly unknown[];
}

/**
 * A call was retried and every attempt failed (`RETRY_EXHAUSTED`). `causes` holds each attempt's
 * error in order; `cause` is the last one, and the HTTP status is the last one's when it is a 5xx
 * (503 otherwise). `details`: `{ attempts, reason, codes }` where `reason` is `max-attempts`,
 * `budget` (the retry budget is spent) or `deadline` (the next attempt would end past the deadline).
 */
export class RetryExhaustedError extends defineError('RETRY_EXHAUSTED', 503, {
  name: 'RetryExhaustedError',
  base: BlueprintError,
}) {
  /** The error of every attempt, first to last. */
  readonly causes: readonly unknown[];
  constructor(message: string, options: RetryExhaustedErrorOptions = {}) {
    const causes = options.causes ?? (options.cause === undefined ? [] : [options.cause]);
    const last = causes.at(-1);
    super(message, { details: options.details, cause: options.cause ?? last });
    const lastStatus = (last as { status?: unknown } | undefined)?.status;
    if (typeof lastStatus === 'number' && lastStatus >= 500) (this as { status: number }).status = lastStatus;
    this.causes = Object.freeze([...causes]);
  }
}

/**
 * The error table of this package: every class it raises, core's `TimeoutError` included. List it in a
 * contract's `errors` to have remote callers rebuild these classes from their codes.
 */
export const RESILIENCE_ERRORS: readonly CodedErrorClass[] = Object.freeze([
  BrokenCircuitError,
  BulkheadRejectedError,
  RetryExhaustedError,
  TimeoutError,
  ResilienceOptionsError,
]);

/** Every error code this package raises, with its HTTP status. Documented in the README. */
export const RESILIENCE_ERROR_CODES = errorCodesOf(RESILIENCE_ERRORS);

/** True for `CIRCUIT_OPEN`. */
export const isBrokenCircuitError = errorGuard(BrokenCircuitError);
/** True for `BULKHEAD_REJECTED`. */
export const isBulkheadRejectedError = errorGuard(BulkheadRejectedError);
/** True for `RETRY_EXHAUSTED`. The `causes` are there when the error was raised in this process. */
export const isRetryExhaustedError = errorGuard(RetryExhaustedError) as (
  error: unknown,
) => error is BlueprintError & { readonly causes?: readonly unknown[] };
/** True for `RESILIENCE_INVALID_OPTIONS`. */
export const isResilienceOptionsError = errorGuard(ResilienceOptionsError);

const TRANSIENT_CODES = new Set(['REMOTE_UNAVAILABLE', 'TIMEOUT']);
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * The default retry predicate: true for transport failures and timeouts, the errors where trying
 * again can help. That is `REMOTE_UNAVAILABLE`, `TIMEOUT`, and uncoded Node/undici errors such as
 * `ECONNRESET` or `UND_ERR_SOCKET`, also when they are the `cause` of another error (`fetch` throws
 * `TypeError('fetch failed')` whose cause is the refused connection). False for everything else: validation failures, `NOT_FOUND`
 * and other answers of a service, `CIRCUIT_OPEN`, `BULKHEAD_REJECTED`, `ABORTED`, `RETRY_EXHAUSTED`.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // The dependency answered that one of *its* dependencies failed: retrying here would multiply the
  // load at every layer, so only the layer next to the failure retries.
  if (relayedFrom(error) !== undefined) return false;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (typeof code !== 'string') return transientCause(error, 0);
  if (typeof status === 'number') return TRANSIENT_CODES.has(code);
  return TRANSIENT_CODES.has(code) || TRANSIENT_SYSTEM_CODES.has(code);
}

/**
 * An uncoded error whose cause is a socket error: `fetch` (undici) throws `TypeError('fetch failed')`
 * with the refused or reset connection as its `cause` (sometimes an `AggregateError` of one per address).
 */
function transientCause(error: object, depth: number): boolean {
  if (depth > 4) return false;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  const candidates = [cause, ...(Array.isArray(errors) ? errors : [])];
  return candidates.some((candidate) => {
    if (typeof candidate !== 'object' || candidate === null) return false;
    const { code } = candidate as { code?: unknown };
    if (typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code)) return true;
    return transientCause(candidate, depth + 1);
  });
}

/** True for a coded answer with a status below 500: the dependency works and said no. */
function isAnswer(error: object): boolean {
  const { code, status } = error as { code?: unknown; status?: unknown };
  return typeof code === 'string' && typeof status === 'number' && status < 500;
}

/**
 * The default failure predicate of breakers: true unless the error is a coded answer with a status
 * below 500 (`NOT_FOUND`, `VALIDATION_FAILED`, `CONFLICT`, `ABORTED`, ...). Such an answer means the
 * dependency works and said no; it does not open a breaker. An error the dependency relayed from one of
 * its own dependencies (`REMOTE_UNAVAILABLE`, `TIMEOUT`, `CIRCUIT_OPEN`, ... in its answer) is not a
 * failure of this dependency either: the orders service answering "products is down" is itself up, so
 * its breaker stays closed and its other methods work.
 */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { code } = error as { code?: unknown };
  if (relayedFrom(error) !== undefined && typeof code === 'string' && code !== 'INTERNAL') return false;
  return !isAnswer(error);
}

/**
 * The default predicate of fallbacks: true unless the error is a coded answer with a status below 500
 * (`NOT_FOUND`, `VALIDATION_FAILED`, `CONFLICT`, `ABORTED`, ...). Unlike {@link isDependencyFailure} it
 * also accepts errors relayed in a remote answer: whichever layer failed, the caller got no usable
 * result, and the substitute is what it wants.
 */
export function shouldFallback(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  return !isAnswer(error);
}
