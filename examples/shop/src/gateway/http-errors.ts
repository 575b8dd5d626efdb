/**
 * Maps what can go wrong in a request to the public error body `{ error: { code, message, details? } }`.
 */
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

/** Fastify's own errors for bad requests, by code. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'MALFORMED_JSON' },
};

/** Turns an error into an HTTP status and public body. Unknown errors become a 500 without internals. */
export function toHttpError(error: unknown): { status: number; body: HttpErrorBody } {
  const fastifyCode = (error as { code?: unknown }).code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    const mapped = FASTIFY_CODES[fastifyCode]!;
    return {
      status: mapped.status,
      body: { error: { code: mapped.code, message: (error as Error).message } },
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
