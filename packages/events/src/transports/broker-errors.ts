/**
 * The errors the broker transports (redis-streams, nats) reject with when the broker cannot take an
 * event, worded alike so the caller learns whether the event may have been stored.
 */
import { EventsError } from '../errors.js';

/**
 * `EVENTS_BROKER_UNAVAILABLE`: `why`, then whether the event may have been stored (publish again with the
 * same id) or surely was not. `where` names the broker (`{ url }`, `{ servers }`) in `details`, next to
 * `maybeStored`.
 */
export function brokerUnavailable(
  why: string,
  maybeStored: boolean,
  where: Readonly<Record<string, unknown>>,
  cause?: unknown,
): EventsError {
  return new EventsError(
    'EVENTS_BROKER_UNAVAILABLE',
    `${why}${maybeStored ? '; it may have been stored: publish again with the same id' : '; nothing was stored'}`,
    { cause, details: { ...where, maybeStored } },
  );
}

/** `EVENTS_PUBLISH_TIMEOUT`: `broker` (`"Redis"`, `"JetStream"`) did not confirm within `timeout` ms; the event may be stored. */
export function publishTimedOut(broker: string, timeout: number, cause: unknown): EventsError {
  return new EventsError(
    'EVENTS_PUBLISH_TIMEOUT',
    `${broker} did not confirm the event within ${timeout} ms; it may have been stored: publish again with the same id`,
    { cause, details: { maybeStored: true, timeout } },
  );
}

/**
 * What a transport of type `kind` rejects with before `connect` (`EVENTS_BROKER_UNAVAILABLE`, see
 * {@link brokerUnavailable} for `where`) or after `close` (`EVENTS_BUS_CLOSED`).
 */
export function transportNotOpen(
  kind: string,
  closed: boolean,
  where: Readonly<Record<string, unknown>>,
): EventsError {
  return closed
    ? new EventsError(
        'EVENTS_BUS_CLOSED',
        `the ${kind} transport was closed; create a new bus to publish again`,
      )
    : brokerUnavailable(`the ${kind} transport is not connected: call bus.connect() first`, false, where);
}

/** `url` with its user and password replaced by `***`, for messages and details. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
