/**
 * The errors a broker transport rejects with when the broker cannot take an event, worded alike on every
 * broker so the caller learns whether the event may have been stored.
 */
import {
  EventsBrokerUnavailableError,
  EventsBusClosedError,
  type EventsError,
  EventsPublishTimeoutError,
  isEventsError,
} from '../../errors.js';

/**
 * How a client error of a publish reads: the broker did not answer in time (`timeout`), the event never
 * left this process (`not-sent`), or the connection failed while the event may have reached the broker
 * (`maybe-sent`). A transport may also map an error to its own coded error (a full stream, say).
 */
export type PublishFailure = 'timeout' | 'not-sent' | 'maybe-sent' | EventsError;

/** What {@link BrokerErrors} words its messages with. */
export interface BrokerErrorsOptions {
  /** The transport type: `"redis-streams"`, `"nats"`. */
  readonly type: string;
  /** The broker as messages name it: `"Redis"`, `"JetStream"`. */
  readonly broker: string;
  /** Where the broker is, for `details` (`{ url }`, `{ servers }`), passwords redacted. */
  readonly where: Readonly<Record<string, unknown>>;
  /** The transport's publish timeout, in ms, for messages. */
  readonly publishTimeout: number;
  /** Reads a client error of a publish. */
  readonly classify: (error: unknown) => PublishFailure;
}

/** The coded errors of one broker transport. */
export class BrokerErrors {
  constructor(private readonly options: BrokerErrorsOptions) {}

  /**
   * `EVENTS_BROKER_UNAVAILABLE`: `why`, then whether the event may have been stored (publish again with
   * the same id) or surely was not; `details` has the broker's place and `maybeStored`.
   */
  unavailable(why: string, maybeStored: boolean, cause?: unknown): EventsError {
    return new EventsBrokerUnavailableError(
      `${why}${maybeStored ? '; it may have been stored: publish again with the same id' : '; nothing was stored'}`,
      { cause, details: { ...this.options.where, maybeStored } },
    ) as EventsError;
  }

  /** `EVENTS_PUBLISH_TIMEOUT`: the broker did not confirm within the publish timeout; the event may be stored. */
  timedOut(cause: unknown): EventsError {
    const { broker, publishTimeout } = this.options;
    return new EventsPublishTimeoutError(
      `${broker} did not confirm the event within ${publishTimeout} ms; it may have been stored: publish again with the same id`,
      { cause, details: { maybeStored: true, timeout: publishTimeout } },
    ) as EventsError;
  }

  /** What the transport rejects with before `connect` (`EVENTS_BROKER_UNAVAILABLE`) or after `close` (`EVENTS_BUS_CLOSED`). */
  notOpen(closed: boolean): EventsError {
    const { type } = this.options;
    return closed
      ? (new EventsBusClosedError(
          `the ${type} transport was closed; create a new bus to publish again`,
        ) as EventsError)
      : this.unavailable(`the ${type} transport is not connected: call bus.connect() first`, false);
  }

  /** A setup step (connecting, creating groups, subscribing) failed: coded errors pass, others become unavailable. */
  setup(what: string, error: unknown): EventsError {
    if (isEventsError(error)) return error;
    return this.unavailable(`${what}: ${(error as Error)?.message}`, false, error);
  }

  /** The coded error of a failed publish (see {@link PublishFailure}). */
  publish(error: unknown): EventsError {
    if (isEventsError(error)) return error;
    const failure = this.options.classify(error);
    if (typeof failure !== 'string') return failure;
    if (failure === 'timeout') return this.timedOut(error);
    const message = String((error as Error)?.message);
    return this.unavailable(
      `${this.options.broker} refused the event: ${message}`,
      failure === 'maybe-sent',
      error,
    );
  }
}

/** `url` with its user and password replaced by `***`, for messages and details. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
