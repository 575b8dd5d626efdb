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
export type CodedErrorClass<Code extends string = string> = (new (
  message: string,
  options?: ErrorOptions,
) => BlueprintError) & {
  readonly code: Code;
  readonly status: number;
};

/** Options of {@link defineError} besides the code and status. */
export interface DefineErrorOptions {
  /** Class name, shown in stack traces and logs. Default: derived from the code (`OUT_OF_STOCK` → `OutOfStockError`). */
  readonly name?: string;
  /**
   * The class to extend. Default: {@link ServiceError} (an error a service throws on purpose). Framework
   * errors (timeouts, transport failures, configuration) extend {@link BlueprintError}.
   */
  readonly base?: typeof BlueprintError;
}

/**
 * Declares a coded error class with a fixed code and HTTP status. Every built-in error of every
 * Blueprint package is made with it, in one table per package (its `errors.ts`).
 *
 * List an application error in a contract's `errors` so remote callers rebuild the same class.
 *
 * @example
 * export const OutOfStockError = defineError('OUT_OF_STOCK', 409);
 * throw new OutOfStockError('product p1 has 3 left, 5 requested', { details: { available: 3 } });
 */
export function defineError<const Code extends string>(
  code: Code,
  status = 400,
  nameOrOptions?: string | DefineErrorOptions,
): CodedErrorClass<Code> {
  const options = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
  const className = options.name ?? toClassName(code);
  const Base = (options.base ?? ServiceError) as typeof BlueprintError;
  const cls = class extends Base {
    static readonly code = code;
    static readonly status = status;
    constructor(message: string, errorOptions: ErrorOptions = {}) {
      super(code, message, { ...errorOptions, status });
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

/**
 * A type guard that compares codes, never classes, so errors from another installed copy of a package,
 * or rebuilt from the wire, are recognised.
 *
 * @example
 * export const isOutOfStockError = errorGuard(OutOfStockError);
 */
export function errorGuard(cls: { readonly code: string }): (error: unknown) => error is BlueprintError {
  const { code } = cls;
  return (error: unknown): error is BlueprintError => hasErrorCode(error, code);
}

/** The codes of an error table, as a union type: `CodesOf<typeof CACHE_ERRORS>`. */
export type CodesOf<Table extends readonly { readonly code: string }[]> = Table[number]['code'];

/**
 * A guard over a package's error table: true for an error with one of its codes, or with `code` when
 * given. Compares codes, never classes.
 *
 * @example
 * export const isCacheError = errorTableGuard(CACHE_ERRORS);
 * if (isCacheError(error, 'CACHE_STORE_UNAVAILABLE')) ...
 */
export function errorTableGuard<const Table extends readonly { readonly code: string }[]>(
  table: Table,
): (error: unknown, code?: CodesOf<Table>) => error is BlueprintError {
  const codes = new Set<string>(table.map((cls) => cls.code));
  return (error: unknown, code?: CodesOf<Table>): error is BlueprintError =>
    code !== undefined ? hasErrorCode(error, code) : isBlueprintError(error) && codes.has(error.code);
}

/** The codes and statuses of a package's error table, for its README and tests. */
export function errorCodesOf(
  table: readonly { readonly code: string; readonly status: number }[],
): Readonly<Record<string, number>> {
  return Object.freeze(Object.fromEntries(table.map((cls) => [cls.code, cls.status])));
}

const framework = (code: string, status: number, name: string) =>
  defineError(code, status, { name, base: BlueprintError });

/** One problem found by a schema: where, and what. */
export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

/** The resource asked for does not exist (`NOT_FOUND`, 404). */
export const NotFoundError = defineError('NOT_FOUND', 404, 'NotFoundError');
/** The request conflicts with the current state (`CONFLICT`, 409). */
export const ConflictError = defineError('CONFLICT', 409, 'ConflictError');
/** The caller is not authenticated (`UNAUTHORIZED`, 401). */
export const UnauthorizedError = defineError('UNAUTHORIZED', 401, 'UnauthorizedError');
/**
 * A call between services carries no valid credential: missing, malformed, expired, replayed or wrongly
 * signed (`UNAUTHENTICATED`, 401). `details.reason` says which; the credential itself is never echoed.
 */
export const UnauthenticatedError = defineError('UNAUTHENTICATED', 401, {
  name: 'UnauthenticatedError',
  base: BlueprintError,
});
/** The caller may not do this (`FORBIDDEN`, 403). */
export const ForbiddenError = defineError('FORBIDDEN', 403, 'ForbiddenError');
/**
 * Input, output or payload did not match its schema (`VALIDATION_FAILED`, 400).
 * `details.issues` lists each problem with its path; `details.where` says which schema failed.
 */
export const ValidationError = defineError('VALIDATION_FAILED', 400, 'ValidationError');
/**
 * A service answered a value its contract's output schema refuses (`OUTPUT_INVALID`, 500): a server-side
 * error, never blamed on the caller. `details` are those of a validation failure (`where: "output"`,
 * `subject`, `issues`).
 */
export const OutputInvalidError = framework('OUTPUT_INVALID', 500, 'OutputInvalidError');
/** An unexpected failure inside a service; its message is kept, its stack stays on the server (`INTERNAL`). */
export const InternalError = framework('INTERNAL', 500, 'InternalError');
/** A remote service could not be reached: refused, reset, DNS, closed pool (`REMOTE_UNAVAILABLE`, 503). */
export const RemoteUnavailableError = framework('REMOTE_UNAVAILABLE', 503, 'RemoteUnavailableError');
/** A call or operation took longer than allowed (`TIMEOUT`, 504). */
export const TimeoutError = framework('TIMEOUT', 504, 'TimeoutError');
/** The caller aborted the call through its `AbortSignal` (`ABORTED`, 499). */
export const AbortedError = framework('ABORTED', 499, 'AbortedError');
/** A topology file is invalid: `details.issues` names each path and the fix (`TOPOLOGY_INVALID`). */
export const TopologyError = framework('TOPOLOGY_INVALID', 500, 'TopologyError');
/** The app definition or its wiring is wrong (`APP_INVALID`). */
export const AppDefinitionError = framework('APP_INVALID', 500, 'AppDefinitionError');
/** An RPC request body is malformed JSON, or has `__proto__`/`constructor.prototype` keys (`RPC_BAD_REQUEST`, 400). */
export const RpcBadRequestError = framework('RPC_BAD_REQUEST', 400, 'RpcBadRequestError');
/** An RPC request's content type is not the codec's (`RPC_UNSUPPORTED_MEDIA_TYPE`, 415). */
export const RpcUnsupportedMediaTypeError = framework(
  'RPC_UNSUPPORTED_MEDIA_TYPE',
  415,
  'RpcUnsupportedMediaTypeError',
);
/** An RPC request or response body is over the limit (`RPC_PAYLOAD_TOO_LARGE`, 413). */
export const RpcPayloadTooLargeError = framework('RPC_PAYLOAD_TOO_LARGE', 413, 'RpcPayloadTooLargeError');
/** No hosted service has the method an RPC request names (`RPC_UNKNOWN_METHOD`, 404). */
export const RpcUnknownMethodError = framework('RPC_UNKNOWN_METHOD', 404, 'RpcUnknownMethodError');
/**
 * A call between incompatible versions of a contract (`CONTRACT_MISMATCH`, 500): the caller and the
 * server it reached disagree on the method's schemas, as during a rolling update. `details` name both
 * versions (`caller`, `server`: `{ version, fingerprint }`), the `service`, `method`, `url`, and each
 * difference (`differences`: sentences naming the method and field).
 */
export const ContractMismatchError = framework('CONTRACT_MISMATCH', 500, 'ContractMismatchError');
/** A value could not be encoded or decoded by the codec (`CODEC_INVALID`). */
export const CodecError = framework('CODEC_INVALID', 400, 'CodecError');
/** An option given in code is invalid; the message names the option and what is allowed (`OPTIONS_INVALID`). */
export const OptionsError = framework('OPTIONS_INVALID', 500, 'OptionsError');

/*
 * Each class is also a type of the same name, so `catch (error) { ... (error as TimeoutError) }` and
 * `function f(): NotFoundError` read as they would with hand-written classes.
 */
/** An instance of {@link NotFoundError}. */
export type NotFoundError = BlueprintError;
/** An instance of {@link ConflictError}. */
export type ConflictError = BlueprintError;
/** An instance of {@link UnauthorizedError}. */
export type UnauthorizedError = BlueprintError;
/** An instance of {@link UnauthenticatedError}. */
export type UnauthenticatedError = BlueprintError;
/** An instance of {@link ForbiddenError}. */
export type ForbiddenError = BlueprintError;
/** An instance of {@link ValidationError}. */
export type ValidationError = BlueprintError;
/** An instance of {@link OutputInvalidError}. */
export type OutputInvalidError = BlueprintError;
/** An instance of {@link InternalError}. */
export type InternalError = BlueprintError;
/** An instance of {@link RemoteUnavailableError}. */
export type RemoteUnavailableError = BlueprintError;
/** An instance of {@link TimeoutError}. */
export type TimeoutError = BlueprintError;
/** An instance of {@link AbortedError}. */
export type AbortedError = BlueprintError;
/** An instance of {@link TopologyError}. */
export type TopologyError = BlueprintError;
/** An instance of {@link AppDefinitionError}. */
export type AppDefinitionError = BlueprintError;
/** An instance of {@link RpcBadRequestError}. */
export type RpcBadRequestError = BlueprintError;
/** An instance of {@link RpcUnsupportedMediaTypeError}. */
export type RpcUnsupportedMediaTypeError = BlueprintError;
/** An instance of {@link RpcPayloadTooLargeError}. */
export type RpcPayloadTooLargeError = BlueprintError;
/** An instance of {@link RpcUnknownMethodError}. */
export type RpcUnknownMethodError = BlueprintError;
/** An instance of {@link ContractMismatchError}. */
export type ContractMismatchError = BlueprintError;
/** An instance of {@link CodecError}. */
export type CodecError = BlueprintError;
/** An instance of {@link OptionsError}. */
export type OptionsError = BlueprintError;

/** The error table of this package: every class, so a remote caller can rebuild any of them by code. */
export const CORE_ERRORS: readonly CodedErrorClass[] = Object.freeze([
  NotFoundError,
  ConflictError,
  UnauthorizedError,
  UnauthenticatedError,
  ForbiddenError,
  ValidationError,
  OutputInvalidError,
  InternalError,
  RemoteUnavailableError,
  TimeoutError,
  AbortedError,
  TopologyError,
  AppDefinitionError,
  RpcBadRequestError,
  RpcUnsupportedMediaTypeError,
  RpcPayloadTooLargeError,
  RpcUnknownMethodError,
  ContractMismatchError,
  CodecError,
  OptionsError,
]);

/** Every error code defined by this package, with its HTTP status. Documented in the README. */
export const CORE_ERROR_CODES = errorCodesOf(CORE_ERRORS);

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
export const isNotFoundError = errorGuard(NotFoundError);
/** True for `VALIDATION_FAILED`. */
export const isValidationError = errorGuard(ValidationError);
/** True for `REMOTE_UNAVAILABLE`. */
export const isRemoteUnavailableError = errorGuard(RemoteUnavailableError);
/** True for `TIMEOUT`. */
export const isTimeoutError = errorGuard(TimeoutError);

/**
 * Rebuilds an error received over the wire into its class: first the contract's own `errors`, then the
 * built-in classes; an unknown code becomes a {@link ServiceError} with that code and status.
 */
export function reviveError(
  wire: SerializedError,
  known: readonly CodedErrorClass[] = [],
  status?: number,
): BlueprintError {
  const cls = known.find((c) => c.code === wire.code) ?? CORE_ERRORS.find((c) => c.code === wire.code);
  const options: ErrorOptions = wire.details === undefined ? {} : { details: wire.details };
  if (cls) return new cls(wire.message, options);
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

/** Options of {@link serializeError}. */
export interface SerializeErrorOptions {
  /**
   * For answers to callers in other processes: an uncoded error, or an `INTERNAL` one, is answered with
   * a generic message naming this correlation id (also in `details.correlationId`) instead of its own
   * message, which may carry internal text (file paths, SQL, host names). The server logs the detail
   * under the same id. Default: none, the message is kept (the in-process path).
   */
  readonly hideInternal?: { readonly correlationId: string } | undefined;
}

/**
 * Turns anything thrown by a service into its wire form. Coded errors keep their code, message and
 * details; anything else becomes `INTERNAL` with its message, or with a generic one under
 * `hideInternal`. Never a stack trace.
 *
 * @example
 * serializeError(new Error('ENOENT /srv/data/x.db'), { hideInternal: { correlationId: 'c-1' } })
 * // { status: 500, body: { code: 'INTERNAL', message: "internal error; see the server's logs, correlation id c-1", details: { correlationId: 'c-1' } } }
 */
export function serializeError(
  error: unknown,
  options: SerializeErrorOptions = {},
): { status: number; body: SerializedError } {
  const hidden = options.hideInternal;
  if (hidden !== undefined && (!isBlueprintError(error) || error.code === 'INTERNAL')) {
    const { correlationId } = hidden;
    return {
      status: 500,
      body: {
        code: 'INTERNAL',
        message: `internal error; see the server's logs, correlation id ${correlationId}`,
        details: { correlationId },
      },
    };
  }
  if (isBlueprintError(error)) {
    const status = typeof error.status === 'number' ? error.status : 500;
    const body: SerializedError = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status, body };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { code: 'INTERNAL', message } };
}
