/**
 * Coded errors of @blueprint/http: one table, every class made with core's `defineError`. They are the
 * edge's own refusals (a request that never reached a contract method) and the mistakes of a route table.
 * Guards compare `code`, never `instanceof`.
 */
import {
  BlueprintError,
  type CodedErrorClass,
  defineError,
  errorCodesOf,
  errorTableGuard,
} from '@blueprint/core';

const edge = (code: string, status: number, name: string) =>
  defineError(code, status, { name, base: BlueprintError });

/**
 * The request body is not JSON, is nested too deep, or has `__proto__` / `constructor.prototype` keys
 * (`MALFORMED_JSON`, 400). Nothing ran.
 */
export const MalformedJsonError = edge('MALFORMED_JSON', 400, 'MalformedJsonError');
/** An instance of {@link MalformedJsonError}. */
export type MalformedJsonError = BlueprintError;

/** A request body whose content type is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`, 415). */
export const UnsupportedMediaTypeError = edge('UNSUPPORTED_MEDIA_TYPE', 415, 'UnsupportedMediaTypeError');
/** An instance of {@link UnsupportedMediaTypeError}. */
export type UnsupportedMediaTypeError = BlueprintError;

/** A request body over the body limit, declared or streamed (`PAYLOAD_TOO_LARGE`, 413). */
export const PayloadTooLargeError = edge('PAYLOAD_TOO_LARGE', 413, 'PayloadTooLargeError');
/** An instance of {@link PayloadTooLargeError}. */
export type PayloadTooLargeError = BlueprintError;

/**
 * The path is a route, but not for this method (`METHOD_NOT_ALLOWED`, 405). The response's `allow`
 * header and `details.allow` list the methods it has.
 */
export const MethodNotAllowedError = edge('METHOD_NOT_ALLOWED', 405, 'MethodNotAllowedError');
/** An instance of {@link MethodNotAllowedError}. */
export type MethodNotAllowedError = BlueprintError;

/** The request path is not valid percent-encoding (`MALFORMED_URL`, 400). */
export const MalformedUrlError = edge('MALFORMED_URL', 400, 'MalformedUrlError');
/** An instance of {@link MalformedUrlError}. */
export type MalformedUrlError = BlueprintError;

/**
 * A path parameter is longer than the Fastify router's `maxParamLength` (`URI_TOO_LONG`, 414). Only an
 * app that lowers `maxParamLength` below its default sees it; by default every parameter reaches the
 * input schema.
 */
export const UriTooLongError = edge('URI_TOO_LONG', 414, 'UriTooLongError');
/** An instance of {@link UriTooLongError}. */
export type UriTooLongError = BlueprintError;

/**
 * Node's HTTP parser refused the request before any route saw it: headers over the size limit
 * (`HEADERS_TOO_LARGE`, 431), headers or body not received within the server's timeouts
 * (`REQUEST_TIMEOUT`, 408), or a malformed request (`BAD_REQUEST`, 400). Answered on the socket, which
 * is then closed.
 */
export const HeadersTooLargeError = edge('HEADERS_TOO_LARGE', 431, 'HeadersTooLargeError');
/** An instance of {@link HeadersTooLargeError}. */
export type HeadersTooLargeError = BlueprintError;
/** See {@link HeadersTooLargeError}: the request did not arrive in time (`REQUEST_TIMEOUT`, 408). */
export const RequestTimeoutError = edge('REQUEST_TIMEOUT', 408, 'RequestTimeoutError');
/** An instance of {@link RequestTimeoutError}. */
export type RequestTimeoutError = BlueprintError;
/** See {@link HeadersTooLargeError}: a request Node's parser could not read (`BAD_REQUEST`, 400). */
export const BadRequestError = edge('BAD_REQUEST', 400, 'BadRequestError');
/** An instance of {@link BadRequestError}. */
export type BadRequestError = BlueprintError;

/** A request header the edge reads is malformed, e.g. a timeout that is not a duration (`HEADER_INVALID`, 400). */
export const HeaderInvalidError = edge('HEADER_INVALID', 400, 'HeaderInvalidError');
/** An instance of {@link HeaderInvalidError}. */
export type HeaderInvalidError = BlueprintError;

/**
 * A route table is wrong: a path parameter the input schema lacks, a route declared twice, an unknown
 * method, a malformed path (`ROUTES_INVALID`, 500). Thrown by `defineRoutes`, when the app is built.
 */
export const RoutesInvalidError = edge('ROUTES_INVALID', 500, 'RoutesInvalidError');
/** An instance of {@link RoutesInvalidError}. */
export type RoutesInvalidError = BlueprintError;

/** An adapter option is wrong (`HTTP_OPTIONS_INVALID`, 500); the message names the option. */
export const HttpOptionsError = edge('HTTP_OPTIONS_INVALID', 500, 'HttpOptionsError');
/** An instance of {@link HttpOptionsError}. */
export type HttpOptionsError = BlueprintError;

/**
 * The Lambda handler was invoked with an event that is not an API Gateway HTTP API (payload 2.0) or
 * Function URL event, e.g. a REST API (payload 1.0) event or a direct invocation
 * (`LAMBDA_EVENT_UNSUPPORTED`, 500). The invocation fails with this error; nothing ran.
 */
export const LambdaEventError = edge('LAMBDA_EVENT_UNSUPPORTED', 500, 'LambdaEventError');
/** An instance of {@link LambdaEventError}. */
export type LambdaEventError = BlueprintError;

/** The error table of this package. */
export const HTTP_ERRORS: readonly CodedErrorClass[] = Object.freeze([
  MalformedJsonError,
  UnsupportedMediaTypeError,
  PayloadTooLargeError,
  MethodNotAllowedError,
  MalformedUrlError,
  UriTooLongError,
  HeadersTooLargeError,
  RequestTimeoutError,
  BadRequestError,
  HeaderInvalidError,
  RoutesInvalidError,
  HttpOptionsError,
  LambdaEventError,
]);

/** Every error code of this package with its HTTP status. Documented in the README. */
export const HTTP_ERROR_CODES = errorCodesOf(HTTP_ERRORS);

/** True for an error of this package (or with `code`, when given). */
export const isHttpError = errorTableGuard(HTTP_ERRORS as readonly CodedErrorClass[]);
