/**
 * The errors a remote call's client ends with, worded the same on every transport: the call timed out,
 * its response was over the body limit, or the server answered an error, rebuilt into its class (or
 * `REMOTE_UNAVAILABLE` when the answer carries no coded error).
 */
import {
  type BlueprintError,
  type CodedErrorClass,
  markRelayed,
  RemoteUnavailableError,
  reviveError,
  type SerializedError,
  TimeoutError,
} from '../errors.js';

/** `TIMEOUT` of the call `subject` (`products.get`) to `url` after `timeoutMs`, with the transport's error as `cause`. */
export function callTimedOut(
  subject: string,
  url: string,
  timeoutMs: number,
  cause?: unknown,
): BlueprintError {
  return new TimeoutError(`${subject} timed out after ${timeoutMs} ms (${url})`, {
    cause,
    details: { timeoutMs },
  });
}

/** `REMOTE_UNAVAILABLE` of a response of `size` bytes over the body `limit`. */
export function responseTooLarge(subject: string, size: number, limit: number): BlueprintError {
  return new RemoteUnavailableError(
    `${subject}: response of ${size} bytes is over the limit of ${limit}; raise rpc.bodyLimit or return less`,
    { details: { limit } },
  );
}

/** The coded error in the decoded body of an error answer, or undefined when it holds none. */
export function codedErrorIn(body: unknown): SerializedError | undefined {
  const wire = body as Partial<SerializedError> | null | undefined;
  return wire !== undefined &&
    wire !== null &&
    typeof wire.code === 'string' &&
    typeof wire.message === 'string'
    ? (wire as SerializedError)
    : undefined;
}

/**
 * The error of an error answer with status `status` from `service` at `url`: the coded error it carried
 * (`wire`, from {@link codedErrorIn}) rebuilt into its class (the contract's `known` errors first) and
 * marked as relayed from there, or `REMOTE_UNAVAILABLE` when it carried none.
 */
export function answeredError(
  wire: SerializedError | undefined,
  subject: string,
  url: string,
  status: number,
  service: string,
  known: readonly CodedErrorClass[],
): BlueprintError {
  if (wire === undefined) {
    return new RemoteUnavailableError(`${subject}: ${url} answered ${status} without a coded error`, {
      details: { status },
    });
  }
  return markRelayed(reviveError(wire, known, status), { service, url });
}
