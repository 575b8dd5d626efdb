/**
 * Maps what can go wrong in a request to the public error body `{ error: { code, message, details? } }`.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isBlueprintError } from '@blueprint/core';

/** The public error body. */
export interface HttpErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Codes of failures to reach a dependency: the client should retry later. */
const UNAVAILABLE_CODES = new Set([
  'REMOTE_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'TIMEOUT',
  'BULKHEAD_REJECTED',
  'RETRY_EXHAUSTED',
]);

/** Fastify's own errors for bad requests, by code; `message` replaces one that would echo the request. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'URI_TOO_LONG',
    message: 'a path parameter is over 100 characters; no id is that long',
  },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', message: 'the path has malformed percent-encoding' },
};

/** A client went over the rate limit (`RATE_LIMITED`, 429); `details` say the limit and when to retry. */
export class RateLimitedError extends Error {
  readonly code = 'RATE_LIMITED';
  readonly statusCode = 429;
  constructor(
    message: string,
    readonly details: { readonly limit: number; readonly retryAfterMs: number },
  ) {
    super(message);
    this.name = 'RateLimitedError';
  }
}

/** Turns an error into an HTTP status and public body. Unknown errors become a 500 without internals. */
export function toHttpError(error: unknown): { status: number; body: HttpErrorBody } {
  if (error instanceof RateLimitedError) {
    return {
      status: 429,
      body: { error: { code: error.code, message: error.message, details: error.details } },
    };
  }
  const fastifyCode = (error as { code?: unknown }).code;
  if (typeof fastifyCode === 'string' && Object.hasOwn(FASTIFY_CODES, fastifyCode)) {
    const mapped = FASTIFY_CODES[fastifyCode]!;
    return {
      status: mapped.status,
      body: { error: { code: mapped.code, message: mapped.message ?? (error as Error).message } },
    };
  }
  if (isBlueprintError(error)) {
    if (UNAVAILABLE_CODES.has(error.code)) {
      return { status: 503, body: { error: { code: error.code, message: error.message } } };
    }
    const status = error.code === 'INTERNAL' ? 500 : error.status;
    const body: HttpErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined && error.code !== 'INTERNAL') body.error.details = error.details;
    return { status: status >= 400 && status < 600 ? status : 500, body };
  }
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (error instanceof SyntaxError || statusCode === 400) {
    return { status: 400, body: { error: { code: 'MALFORMED_JSON', message: (error as Error).message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

/**
 * Answers a request Node's parser refused (Fastify's `clientErrorHandler`) in the public error shape:
 * 431 `HEADERS_TOO_LARGE`, 408 `REQUEST_TIMEOUT` (headers or body not received in time), 400
 * `BAD_REQUEST`; then closes the connection.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'the request headers are over 16 KiB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'the request was not received in time']
        : [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
