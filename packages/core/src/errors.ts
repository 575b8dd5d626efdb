/**
 * Coded errors of Blueprint.
 *
 * Every error carries a stable `code` (`AREA_WHAT`), a message that names the bad value and the fix,
 * optional `details` (JSON-safe data for the caller) and the `cause`. Errors thrown by a service cross
 * the RPC wire as `{ code, message, details }` and are rebuilt on the caller's side into the same class,
 * so `catch` blocks behave the same in a monolith and in services.
 *
 * Type guards compare `code`, never `instanceof`, so two installed copies of this package still agree.
 */

/**
 * Marks Blueprint errors. A registered symbol, so errors made by another installed copy of this package
 * carry the same mark; an error from elsewhere that happens to have a `code` (Node's `ENOENT`, a
 * driver's `ECONNREFUSED`) is not a Blueprint error and crosses the wire as `INTERNAL`.
 */
export const BLUEPRINT_ERROR_MARK: unique symbol = Symbol.for('blueprint:error') as never;

/** Options accepted by every Blueprint error. */
export interface ErrorOptions {
  /** JSON-safe data that helps the caller (validation issues, the missing id, ...). Crosses the wire. */
  details?: unknown;
  /** The underlying error. Kept locally; never sent over the wire. */
  cause?: unknown;
}

/**
 * Base class of every coded error. Subclass it (or use {@link defineError}) for application errors.
 *
 * @example
 * throw new BlueprintError('PAYMENT_DECLINED', 'card declined for order 42', { details: { orderId: 42 } });
 */
export class BlueprintError extends Error {
  /** Marks the error as a Blueprint error for {@link isBlueprintError}, across installed copies. */
  declare readonly [BLUEPRINT_ERROR_MARK]: true;
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: string;
  /** JSON-safe data for the caller. */
  readonly details: unknown;
  /** HTTP status used when this error crosses an HTTP boundary. */
  readonly status: number;

  constructor(code: string, message: string, options: ErrorOptions & { status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    this.status = options.status ?? 500;
  }

  /** The wire form: what a remote caller receives. */
  toJSON(): SerializedError {
    const out: SerializedError = { code: this.code, message: this.message };
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

Object.defineProperty(BlueprintError.prototype, BLUEPRINT_ERROR_MARK, { value: true });

/** The wire form of an error. */
export interface SerializedError {
  code: string;
  message: string;
  details?: unknown;
}

/** An error a service throws on purpose: part of its contract, safe to show to its callers. */
export class ServiceError extends BlueprintError {}

/** A constructor of a coded error class made by {@link defineError} or written by hand. */
export type CodedErrorClass = (new (
  message: string,
  options?: ErrorOptions,
) => BlueprintError) & {
  readonly code: string;
  readonly status: number;
};

/**
 * Declares an application error class with a fixed code and HTTP status.
 *
 * List it in a contract's `errors` so remote callers rebuild the same class.
 *
 * @example
 * export const OutOfStockError = defineError('OUT_OF_STOCK', 409);
 * throw new OutOfStockError('product p1 has 3 left, 5 requested', { details: { available: 3 } });
 */
export function defineError(code: string, status = 400, name?: string): CodedErrorClass {
  const className = name ?? toClassName(code);
  const cls = class extends ServiceError {
    static readonly code = code;
    static readonly status = status;
    constructor(message: string, options: ErrorOptions = {}) {
      super(code, message, { ...options, status });
      this.name = className;
    }
  };
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

function toClassName(code: string): string {
  const camel = code
    .toLowerCase()
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `${camel}Error`;
}

/** The resource asked for does not exist (`NOT_FOUND`, 404). */
export const NotFoundError = defineError('NOT_FOUND', 404, 'NotFoundError');
/** The request conflicts with the current state (`CONFLICT`, 409). */
export const ConflictError = defineError('CONFLICT', 409, 'ConflictError');
/** The caller is not authenticated (`UNAUTHORIZED`, 401). */
export const UnauthorizedError = defineError('UNAUTHORIZED', 401, 'UnauthorizedError');
/** The caller may not do this (`FORBIDDEN`, 403). */
export const ForbiddenError = defineError('FORBIDDEN', 403, 'ForbiddenError');

/** One problem found by a schema: where, and what. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

/**
 * Input, output or payload did not match its schema (`VALIDATION_FAILED`, 400).
 * `details.issues` lists each problem with its path; `details.where` says which schema failed.
 */
export class ValidationError extends ServiceError {
  static readonly code = 'VALIDATION_FAILED';
  static readonly status = 400;
  constructor(message: string, options: ErrorOptions = {}) {
    super('VALIDATION_FAILED', message, { ...options, status: 400 });
  }
}

/** An unexpected failure inside a service; its message is kept, its stack stays on the server (`INTERNAL`). */
export class InternalError extends BlueprintError {
  static readonly code = 'INTERNAL';
  static readonly status = 500;
  constructor(message: string, options: ErrorOptions = {}) {
    super('INTERNAL', message, { ...options, status: 500 });
  }
}

/** A remote service could not be reached: refused, reset, DNS, closed pool (`REMOTE_UNAVAILABLE`, 503). */
export class RemoteUnavailableError extends BlueprintError {
  static readonly code = 'REMOTE_UNAVAILABLE';
  static readonly status = 503;
  constructor(message: string, options: ErrorOptions = {}) {
    super('REMOTE_UNAVAILABLE', message, { ...options, status: 503 });
  }
}

/** A call or operation took longer than allowed (`TIMEOUT`, 504). */
export class TimeoutError extends BlueprintError {
  static readonly code = 'TIMEOUT';
  static readonly status = 504;
  constructor(message: string, options: ErrorOptions = {}) {
    super('TIMEOUT', message, { ...options, status: 504 });
  }
}

/** The caller aborted the call through its `AbortSignal` (`ABORTED`, 499). */
export class AbortedError extends BlueprintError {
  static readonly code = 'ABORTED';
  static readonly status = 499;
  constructor(message: string, options: ErrorOptions = {}) {
    super('ABORTED', message, { ...options, status: 499 });
  }
}

/** A topology file is invalid: `details.issues` names each path and the fix (`TOPOLOGY_INVALID`). */
export class TopologyError extends BlueprintError {
  static readonly code = 'TOPOLOGY_INVALID';
  static readonly status = 500;
  constructor(message: string, options: ErrorOptions = {}) {
    super('TOPOLOGY_INVALID', message, { ...options, status: 500 });
  }
}

/** The app definition or its wiring is wrong (`APP_INVALID`). */
export class AppDefinitionError extends BlueprintError {
  static readonly code = 'APP_INVALID';
  static readonly status = 500;
  constructor(message: string, options: ErrorOptions = {}) {
    super('APP_INVALID', message, { ...options, status: 500 });
  }
}

/**
 * An RPC request could not be accepted as sent. `code` is one of `RPC_BAD_REQUEST` (malformed JSON,
 * forbidden keys), `RPC_UNSUPPORTED_MEDIA_TYPE`, `RPC_PAYLOAD_TOO_LARGE`, `RPC_UNKNOWN_METHOD`.
 */
export class RpcRequestError extends BlueprintError {
  constructor(code: RpcRequestErrorCode, message: string, options: ErrorOptions & { status: number }) {
    super(code, message, options);
  }
}

/** Codes of {@link RpcRequestError}. */
export type RpcRequestErrorCode =
  | 'RPC_BAD_REQUEST'
  | 'RPC_UNSUPPORTED_MEDIA_TYPE'
  | 'RPC_PAYLOAD_TOO_LARGE'
  | 'RPC_UNKNOWN_METHOD';

const RPC_REQUEST_STATUS: Readonly<Record<RpcRequestErrorCode, number>> = {
  RPC_BAD_REQUEST: 400,
  RPC_UNSUPPORTED_MEDIA_TYPE: 415,
  RPC_PAYLOAD_TOO_LARGE: 413,
  RPC_UNKNOWN_METHOD: 404,
};

/** A value could not be encoded or decoded by the codec (`CODEC_INVALID`). */
export class CodecError extends BlueprintError {
  static readonly code = 'CODEC_INVALID';
  static readonly status = 400;
  constructor(message: string, options: ErrorOptions = {}) {
    super('CODEC_INVALID', message, { ...options, status: 400 });
  }
}

/** Every error code defined by this package, with its HTTP status. Documented in the README. */
export const CORE_ERROR_CODES = {
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  VALIDATION_FAILED: 400,
  INTERNAL: 500,
  REMOTE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  ABORTED: 499,
  TOPOLOGY_INVALID: 500,
  APP_INVALID: 500,
  RPC_BAD_REQUEST: 400,
  RPC_UNSUPPORTED_MEDIA_TYPE: 415,
  RPC_PAYLOAD_TOO_LARGE: 413,
  RPC_UNKNOWN_METHOD: 404,
  CODEC_INVALID: 400,
} as const;

/**
 * True when `error` is a coded Blueprint error, made by this or any other installed copy of the package.
 * Errors of other origins are not, even when they carry a string `code` (`ENOENT`, `ECONNREFUSED`).
 */
export function isBlueprintError(error: unknown): error is BlueprintError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BLUEPRINT_ERROR_MARK]?: unknown })[BLUEPRINT_ERROR_MARK] === true &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** True when `error` is a coded error with this `code`. */
export function hasErrorCode(error: unknown, code: string): error is BlueprintError {
  return isBlueprintError(error) && error.code === code;
}

/** True for `NOT_FOUND`. */
export const isNotFoundError = (error: unknown): error is BlueprintError => hasErrorCode(error, 'NOT_FOUND');
/** True for `VALIDATION_FAILED`. */
export const isValidationError = (error: unknown): error is BlueprintError =>
  hasErrorCode(error, 'VALIDATION_FAILED');
/** True for `REMOTE_UNAVAILABLE`. */
export const isRemoteUnavailableError = (error: unknown): error is BlueprintError =>
  hasErrorCode(error, 'REMOTE_UNAVAILABLE');
/** True for `TIMEOUT`. */
export const isTimeoutError = (error: unknown): error is BlueprintError => hasErrorCode(error, 'TIMEOUT');

/** Built-in error classes by code, used to rebuild errors that crossed the wire. */
const BUILT_IN_ERRORS: readonly CodedErrorClass[] = [
  NotFoundError,
  ConflictError,
  UnauthorizedError,
  ForbiddenError,
  ValidationError as unknown as CodedErrorClass,
  InternalError as unknown as CodedErrorClass,
  RemoteUnavailableError as unknown as CodedErrorClass,
  TimeoutError as unknown as CodedErrorClass,
  AbortedError as unknown as CodedErrorClass,
  CodecError as unknown as CodedErrorClass,
  TopologyError as unknown as CodedErrorClass,
  AppDefinitionError as unknown as CodedErrorClass,
];

/**
 * Rebuilds an error received over the wire into its class: first the contract's own `errors`, then the
 * built-in classes; an unknown code becomes a {@link ServiceError} with that code and status.
 */
export function reviveError(
  wire: SerializedError,
  known: readonly CodedErrorClass[] = [],
  status?: number,
): BlueprintError {
  const cls = known.find((c) => c.code === wire.code) ?? BUILT_IN_ERRORS.find((c) => c.code === wire.code);
  const options: ErrorOptions = wire.details === undefined ? {} : { details: wire.details };
  if (cls) return new cls(wire.message, options);
  if (Object.hasOwn(RPC_REQUEST_STATUS, wire.code)) {
    const code = wire.code as RpcRequestErrorCode;
    return new RpcRequestError(code, wire.message, { ...options, status: RPC_REQUEST_STATUS[code] });
  }
  return new ServiceError(wire.code, wire.message, { ...options, status: status ?? 500 });
}

const RELAYED = Symbol.for('blueprint:relayed-from');

/** Where a relayed error came from: the remote service that answered with it. */
export interface RelayedFrom {
  /** The service whose answer carried the error. */
  readonly service: string;
  /** The address that answered. */
  readonly url?: string | undefined;
}

/**
 * Marks an error as relayed: the remote service answered, and its answer was this error. Transports call
 * it on errors they rebuild from a response, so policies can tell "the dependency is down" (a transport
 * failure made here) from "the dependency answered that one of *its* dependencies is down".
 */
export function markRelayed<E extends BlueprintError>(error: E, from: RelayedFrom): E {
  Object.defineProperty(error, RELAYED, { value: from, enumerable: false });
  return error;
}

/** The remote service an error was relayed from, or undefined for an error raised in this process. */
export function relayedFrom(error: unknown): RelayedFrom | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { [RELAYED]?: RelayedFrom })[RELAYED];
}

/**
 * Turns anything thrown by a service into its wire form. Coded errors keep their code, message and
 * details; anything else becomes `INTERNAL` with its message.
 */
export function serializeError(error: unknown): { status: number; body: SerializedError } {
  if (isBlueprintError(error)) {
    const status = typeof error.status === 'number' ? error.status : 500;
    const body: SerializedError = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status, body };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { code: 'INTERNAL', message } };
}
