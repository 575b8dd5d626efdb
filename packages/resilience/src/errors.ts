/**
 * Coded errors of @blueprint/resilience.
 *
 * Every error has a stable `code`, a message naming the policy and what to do, JSON-safe `details`
 * and the `cause`. Guards compare `code`, never `instanceof`, so two installed copies agree and an
 * error rebuilt from the wire (a `ServiceError` with the same code) is recognised too.
 */
import { BlueprintError, type ErrorOptions, hasErrorCode, relayedFrom } from '@blueprint/core';

export { isTimeoutError, TimeoutError } from '@blueprint/core';

/**
 * A circuit breaker is open (or half-open with its probe in flight) and refused the call without
 * running it (`CIRCUIT_OPEN`, 503). `details`: `{ breaker, state, retryAfterMs }`. Not retried by
 * default: retrying into an open breaker only burns attempts.
 */
export class BrokenCircuitError extends BlueprintError {
  /** The code, `CIRCUIT_OPEN`. */
  static readonly code = 'CIRCUIT_OPEN';
  /** The HTTP status, 503. */
  static readonly status = 503;
  constructor(message: string, options: ErrorOptions = {}) {
    super('CIRCUIT_OPEN', message, { ...options, status: 503 });
  }
}

/**
 * A bulkhead is full: every slot is busy and the queue is full, or the call waited longer than
 * `maxWait` (`BULKHEAD_REJECTED`, 503). Rejected at once, never queued without bound.
 * `details`: `{ bulkhead, maxConcurrent, maxQueue, reason }`.
 */
export class BulkheadRejectedError extends BlueprintError {
  /** The code, `BULKHEAD_REJECTED`. */
  static readonly code = 'BULKHEAD_REJECTED';
  /** The HTTP status, 503. */
  static readonly status = 503;
  constructor(message: string, options: ErrorOptions = {}) {
    super('BULKHEAD_REJECTED', message, { ...options, status: 503 });
  }
}

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
export class RetryExhaustedError extends BlueprintError {
  /** The code, `RETRY_EXHAUSTED`. */
  static readonly code = 'RETRY_EXHAUSTED';
  /** The default HTTP status, 503 (an instance takes its last cause's 5xx status). */
  static readonly status = 503;
  /** The error of every attempt, first to last. */
  readonly causes: readonly unknown[];
  constructor(message: string, options: RetryExhaustedErrorOptions = {}) {
    const causes = options.causes ?? (options.cause === undefined ? [] : [options.cause]);
    const last = causes.at(-1);
    const lastStatus = (last as { status?: unknown } | undefined)?.status;
    super('RETRY_EXHAUSTED', message, {
      details: options.details,
      cause: options.cause ?? last,
      status: typeof lastStatus === 'number' && lastStatus >= 500 ? lastStatus : 503,
    });
    this.causes = Object.freeze([...causes]);
  }
}

/** A policy was given an invalid option; the message names the option and the allowed values (`RESILIENCE_INVALID_OPTIONS`). */
export class ResilienceOptionsError extends BlueprintError {
  /** The code, `RESILIENCE_INVALID_OPTIONS`. */
  static readonly code = 'RESILIENCE_INVALID_OPTIONS';
  /** The HTTP status, 500. */
  static readonly status = 500;
  constructor(message: string, options: ErrorOptions = {}) {
    super('RESILIENCE_INVALID_OPTIONS', message, { ...options, status: 500 });
  }
}

/** Every error code this package raises, with its HTTP status. Documented in the README. */
export const RESILIENCE_ERROR_CODES = {
  CIRCUIT_OPEN: 503,
  BULKHEAD_REJECTED: 503,
  RETRY_EXHAUSTED: 503,
  TIMEOUT: 504,
  RESILIENCE_INVALID_OPTIONS: 500,
} as const;

/** True for `CIRCUIT_OPEN`. */
export const isBrokenCircuitError = (error: unknown): error is BlueprintError =>
  hasErrorCode(error, 'CIRCUIT_OPEN');
/** True for `BULKHEAD_REJECTED`. */
export const isBulkheadRejectedError = (error: unknown): error is BlueprintError =>
  hasErrorCode(error, 'BULKHEAD_REJECTED');
/** True for `RETRY_EXHAUSTED`. The `causes` are there when the error was raised in this process. */
export const isRetryExhaustedError = (
  error: unknown,
): error is BlueprintError & { readonly causes?: readonly unknown[] } =>
  hasErrorCode(error, 'RETRY_EXHAUSTED');
/** True for `RESILIENCE_INVALID_OPTIONS`. */
export const isResilienceOptionsError = (error: unknown): error is BlueprintError =>
  hasErrorCode(error, 'RESILIENCE_INVALID_OPTIONS');

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
 * `ECONNRESET` or `UND_ERR_SOCKET`. False for everything else: validation failures, `NOT_FOUND`
 * and other answers of a service, `CIRCUIT_OPEN`, `BULKHEAD_REJECTED`, `ABORTED`, `RETRY_EXHAUSTED`.
 */
export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // The dependency answered that one of *its* dependencies failed: retrying here would multiply the
  // load at every layer, so only the layer next to the failure retries.
  if (relayedFrom(error) !== undefined) return false;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (typeof code !== 'string') return false;
  if (typeof status === 'number') return TRANSIENT_CODES.has(code);
  return TRANSIENT_CODES.has(code) || TRANSIENT_SYSTEM_CODES.has(code);
}

/**
 * The default failure predicate of breakers and fallbacks: true unless the error is a coded answer
 * with a status below 500 (`NOT_FOUND`, `VALIDATION_FAILED`, `CONFLICT`, `ABORTED`, ...). Such an
 * answer means the dependency works and said no; it neither opens a breaker nor triggers a fallback.
 * An error the dependency relayed from one of its own dependencies (`REMOTE_UNAVAILABLE`, `TIMEOUT`,
 * `CIRCUIT_OPEN`, ... in its answer) is not a failure of this dependency either: the orders service
 * answering "products is down" is itself up, so its breaker stays closed and its other methods work.
 */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (relayedFrom(error) !== undefined && typeof code === 'string' && code !== 'INTERNAL') return false;
  return !(typeof code === 'string' && typeof status === 'number' && status < 500);
}

/**
 * The default predicate of fallbacks: true unless the error is a coded answer with a status below 500
 * (`NOT_FOUND`, `VALIDATION_FAILED`, `CONFLICT`, `ABORTED`, ...). Unlike {@link isDependencyFailure} it
 * also accepts errors relayed in a remote answer: whichever layer failed, the caller got no usable
 * result, and the substitute is what it wants.
 */
export function shouldFallback(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { code, status } = error as { code?: unknown; status?: unknown };
  return !(typeof code === 'string' && typeof status === 'number' && status < 500);
}
