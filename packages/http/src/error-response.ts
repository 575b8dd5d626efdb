/**
 * The one table from an error to an HTTP answer, used by every adapter. It derives from the errors
 * themselves: every coded Blueprint error carries its `status` (`NOT_FOUND` 404, `VALIDATION_FAILED`
 * 400, `CIRCUIT_OPEN` 503, `TIMEOUT` 504, ...), so a service's own `defineError('OUT_OF_STOCK', 409)`
 * maps without being listed here. What the table adds: an app's overrides by code, and that a 500 never
 * shows its message or details (they may carry file paths, SQL, host names), only a generic message with
 * the correlation id under which the edge logged the real one; and that a dependency failure
 * (`REMOTE_UNAVAILABLE`, `CIRCUIT_OPEN`, `BULKHEAD_REJECTED`, `RETRY_EXHAUSTED`, `TIMEOUT`) keeps its
 * status and code but answers a fixed message, since its own names internal URLs and breakers. A call
 * between services refused for its credential (`UNAUTHENTICATED`: service auth, never the public client's
 * own) is the edge's dependency failing, not the client: it answers 502 with a fixed message.
 */
import { isBlueprintError } from '@blueprint/core';

/** The body of every error answer: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

/** An error answer. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: ErrorBody;
  /** Headers that go with it: `allow` on a 405, `retry-after` when the error says when to retry. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Options of {@link errorAnswer}. */
export interface ErrorMapping {
  /**
   * Statuses by error code, over the errors' own: `{ TIMEOUT: 503 }` answers a deadline as 503 where
   * clients already treat 503 as "retry later". Default: none.
   */
  readonly statuses?: Readonly<Record<string, number>> | undefined;
}

/** The generic message of a 500, naming the correlation id the edge logged the error under. */
export function internalMessage(correlationId: string | undefined): string {
  return correlationId === undefined
    ? 'internal error'
    : `internal error; see the server's logs, correlation id ${correlationId}`;
}

/**
 * Failures to reach what a request needed. Their messages and details name internal things (a service's
 * URL, a breaker, the last error of a retry), so a client gets a fixed message by code, and of the
 * details only `retryAfterMs`.
 */
const DEPENDENCY_MESSAGES: Readonly<Record<string, string>> = {
  REMOTE_UNAVAILABLE: 'a service this request needs cannot be reached; retry later',
  CIRCUIT_OPEN: 'a service this request needs is failing; retry later',
  BULKHEAD_REJECTED: 'a service this request needs is busy; retry later',
  RETRY_EXHAUSTED: 'a service this request needs kept failing; retry later',
  TIMEOUT: 'the request did not finish within its deadline',
  UNAUTHENTICATED: 'a service this request needs refused the call between services',
};

/**
 * Statuses of dependency failures whose own status would blame the client: a service refusing the
 * edge's service credential (401 between services) is a bad gateway to the public client.
 */
const DEPENDENCY_STATUSES: Readonly<Record<string, number>> = { UNAUTHENTICATED: 502 };

/** The public message and details of a dependency failure (see {@link DEPENDENCY_MESSAGES}). */
function dependencyBody(code: string, message: string, details: unknown): ErrorBody {
  const retryAfterMs = (details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof retryAfterMs === 'number'
    ? { error: { code, message, details: { retryAfterMs } } }
    : { error: { code, message } };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function headersOf(code: string, details: unknown): Readonly<Record<string, string>> {
  if (typeof details !== 'object' || details === null) return NO_HEADERS;
  const { allow, retryAfterMs } = details as { allow?: unknown; retryAfterMs?: unknown };
  if (code === 'METHOD_NOT_ALLOWED' && Array.isArray(allow)) return { allow: allow.join(', ') };
  if (typeof retryAfterMs === 'number' && retryAfterMs > 0) {
    return { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) };
  }
  return NO_HEADERS;
}

/**
 * The HTTP answer for anything a request failed with. A coded error answers with its status (or the
 * override for its code) and its code, message and details; a status outside 400..599 becomes 500.
 * Any 500, and anything that is not a coded error, answers with a generic message and no details; a
 * dependency failure answers a fixed message by code and only `retryAfterMs` of its details.
 *
 * @example
 * errorAnswer(new NotFoundError('product p9 does not exist'))
 * // { status: 404, body: { error: { code: 'NOT_FOUND', message: 'product p9 does not exist' } }, headers: {} }
 */
export function errorAnswer(error: unknown, mapping: ErrorMapping = {}, correlationId?: string): ErrorAnswer {
  if (!isBlueprintError(error)) {
    return {
      status: 500,
      body: { error: { code: 'INTERNAL', message: internalMessage(correlationId) } },
      headers: NO_HEADERS,
    };
  }
  const own = mapping.statuses?.[error.code] ?? DEPENDENCY_STATUSES[error.code] ?? error.status;
  const status = Number.isInteger(own) && own >= 400 && own <= 599 ? own : 500;
  if (status === 500) {
    return {
      status,
      body: { error: { code: error.code, message: internalMessage(correlationId) } },
      headers: NO_HEADERS,
    };
  }
  const dependency = DEPENDENCY_MESSAGES[error.code];
  if (dependency !== undefined) {
    return {
      status,
      body: dependencyBody(error.code, dependency, error.details),
      headers: headersOf(error.code, error.details),
    };
  }
  const body: ErrorBody =
    error.details === undefined
      ? { error: { code: error.code, message: error.message } }
      : { error: { code: error.code, message: error.message, details: error.details } };
  return { status, body, headers: headersOf(error.code, error.details) };
}
