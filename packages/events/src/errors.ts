/**
 * Coded errors of `@blueprint/events`.
 *
 * Every error is an {@link EventsError} with a stable `code` (`EVENTS_WHAT`), a message naming the bad
 * value and the fix, JSON-safe `details` and the `cause`. Invalid payloads are core's
 * `ValidationError` (`VALIDATION_FAILED`), the same class RPC uses. Type guards compare the code, never
 * `instanceof`, so two installed copies of the package still agree.
 */
import { BlueprintError, type ErrorOptions, hasErrorCode, isBlueprintError } from '@blueprint/core';

/** Every error code of this package with its HTTP status. Documented in the README. */
export const EVENTS_ERROR_CODES = {
  /** `defineEvent` got a bad name, version or schema. */
  EVENTS_DEFINITION_INVALID: 500,
  /** `@OnEvent` or `subscribe` was used wrongly (bad group, two handlers of one event in one service...). */
  EVENTS_HANDLER_INVALID: 500,
  /** `publish` got a bad option: an id, key or header that is not a short string. Nothing was stored. */
  EVENTS_PUBLISH_INVALID: 400,
  /** A bus or transport option is invalid (a duration, a size, a missing transport). */
  EVENTS_CONFIG_INVALID: 500,
  /** A memory transport queue is full and its `onFull` is `"fail"`: nothing was stored. */
  EVENTS_QUEUE_FULL: 503,
  /**
   * The broker did not confirm in time (or a full memory queue did not free room in time). For a
   * broker, the event may still have been stored: publish again with the same `id`.
   */
  EVENTS_PUBLISH_TIMEOUT: 504,
  /** The broker cannot be reached. `details.maybeStored` says whether the event may have been stored anyway. */
  EVENTS_BROKER_UNAVAILABLE: 503,
  /** The bus was closed: no more publishing or subscribing. */
  EVENTS_BUS_CLOSED: 503,
  /** No dead letter has this id (it was replayed or discarded, or never existed). */
  EVENTS_DEAD_LETTER_NOT_FOUND: 404,
  /** The transport needs a client library that is not installed (e.g. `ioredis`). */
  EVENTS_DRIVER_MISSING: 500,
} as const;

/** A code of {@link EventsError}. */
export type EventsErrorCode = keyof typeof EVENTS_ERROR_CODES;

/**
 * An error of the event bus or one of its transports.
 *
 * @example
 * try { await bus.publish(OrderPlaced, order); }
 * catch (error) { if (isEventsError(error, 'EVENTS_PUBLISH_TIMEOUT')) await bus.publish(OrderPlaced, order, { id }); }
 */
export class EventsError extends BlueprintError {
  /** The error code. */
  declare readonly code: EventsErrorCode;

  constructor(code: EventsErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, { ...options, status: EVENTS_ERROR_CODES[code] });
  }
}

/** True when `error` is an events error, optionally with the given `code` (compares codes, not classes). */
export function isEventsError(error: unknown, code?: EventsErrorCode): error is EventsError {
  if (code !== undefined) return hasErrorCode(error, code);
  return isBlueprintError(error) && Object.hasOwn(EVENTS_ERROR_CODES, error.code);
}
