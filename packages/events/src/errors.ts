/**
 * Coded errors of `@blueprint/events`, one class per code. Each has a stable `code` (`EVENTS_WHAT`), a
 * message naming the bad value and the fix, JSON-safe `details` and the `cause`. Invalid payloads are
 * core's `ValidationError` (`VALIDATION_FAILED`), the same class RPC uses. Type guards compare the code,
 * never `instanceof`, so two installed copies of the package still agree.
 */
import {
  BlueprintError,
  type CodedErrorClass,
  type CodesOf,
  defineError,
  errorCodesOf,
  errorTableGuard,
} from '@blueprint/core';

const eventsError = <const Code extends string>(code: Code, status: number, name: string) =>
  defineError(code, status, { name, base: BlueprintError });

/** `defineEvent` got a bad name, version or schema (`EVENTS_DEFINITION_INVALID`, 500). */
export const EventsDefinitionError = eventsError('EVENTS_DEFINITION_INVALID', 500, 'EventsDefinitionError');
/**
 * `@OnEvent` or `subscribe` was used wrongly: a bad group, a non-event, two handlers of one event in one
 * service, a bad handler option (`EVENTS_HANDLER_INVALID`, 500).
 */
export const EventsHandlerError = eventsError('EVENTS_HANDLER_INVALID', 500, 'EventsHandlerError');
/** `publish` got a bad option: an id, key or header that is not a short string. Nothing was stored (`EVENTS_PUBLISH_INVALID`, 400). */
export const EventsPublishInvalidError = eventsError(
  'EVENTS_PUBLISH_INVALID',
  400,
  'EventsPublishInvalidError',
);
/** A bus or transport option is invalid: a duration, a size, a URL (`EVENTS_CONFIG_INVALID`, 500). */
export const EventsConfigError = eventsError('EVENTS_CONFIG_INVALID', 500, 'EventsConfigError');
/** A queue or stream is full: nothing was stored (`EVENTS_QUEUE_FULL`, 503). */
export const EventsQueueFullError = eventsError('EVENTS_QUEUE_FULL', 503, 'EventsQueueFullError');
/**
 * The broker did not confirm in time, or a full memory queue did not free room in time
 * (`EVENTS_PUBLISH_TIMEOUT`, 504). For a broker the event may still have been stored: publish again
 * with the same `id`.
 */
export const EventsPublishTimeoutError = eventsError(
  'EVENTS_PUBLISH_TIMEOUT',
  504,
  'EventsPublishTimeoutError',
);
/**
 * The broker cannot be reached (`EVENTS_BROKER_UNAVAILABLE`, 503). `details.maybeStored` says whether a
 * publish may have been stored anyway.
 */
export const EventsBrokerUnavailableError = eventsError(
  'EVENTS_BROKER_UNAVAILABLE',
  503,
  'EventsBrokerUnavailableError',
);
/** The bus or its transport was closed: no more publishing or subscribing (`EVENTS_BUS_CLOSED`, 503). */
export const EventsBusClosedError = eventsError('EVENTS_BUS_CLOSED', 503, 'EventsBusClosedError');
/** No dead letter has this id: it was replayed or discarded, or never existed (`EVENTS_DEAD_LETTER_NOT_FOUND`, 404). */
export const EventsDeadLetterNotFoundError = eventsError(
  'EVENTS_DEAD_LETTER_NOT_FOUND',
  404,
  'EventsDeadLetterNotFoundError',
);
/** The transport needs a client library that is not installed, e.g. `ioredis` (`EVENTS_DRIVER_MISSING`, 500). */
export const EventsDriverMissingError = eventsError('EVENTS_DRIVER_MISSING', 500, 'EventsDriverMissingError');

/** The error table of this package: one class per code. */
export const EVENTS_ERRORS = Object.freeze([
  EventsDefinitionError,
  EventsHandlerError,
  EventsPublishInvalidError,
  EventsConfigError,
  EventsQueueFullError,
  EventsPublishTimeoutError,
  EventsBrokerUnavailableError,
  EventsBusClosedError,
  EventsDeadLetterNotFoundError,
  EventsDriverMissingError,
] as const);

/** Every error code of this package with its HTTP status. Documented in the README. */
export const EVENTS_ERROR_CODES = errorCodesOf(EVENTS_ERRORS);

/** A code of {@link EVENTS_ERRORS}. */
export type EventsErrorCode = CodesOf<typeof EVENTS_ERRORS>;

/** An error of this package: a coded Blueprint error whose `code` is an {@link EventsErrorCode}. */
export type EventsError = BlueprintError & { readonly code: EventsErrorCode };

/**
 * True when `error` is an events error (from any installed copy), optionally with this `code`.
 *
 * @example
 * try { await bus.publish(OrderPlaced, order, { id }); }
 * catch (error) { if (isEventsError(error, 'EVENTS_PUBLISH_TIMEOUT')) await bus.publish(OrderPlaced, order, { id }); }
 */
export const isEventsError = errorTableGuard(EVENTS_ERRORS) as (
  error: unknown,
  code?: EventsErrorCode,
) => error is EventsError;

/** The class of `code`, to rethrow an error under its own code with a new message. */
export function eventsErrorClass(code: EventsErrorCode): CodedErrorClass<EventsErrorCode> {
  return EVENTS_ERRORS.find((cls) => cls.code === code)!;
}
