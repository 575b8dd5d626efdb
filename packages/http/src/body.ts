/**
 * Request bodies at the edge, the same on every adapter: JSON only (`application/json`, parameters
 * allowed), at most the body limit, parsed by core's safe JSON parser (no `__proto__` or
 * `constructor.prototype` keys, bounded nesting) before any schema sees them.
 */
import { parseJsonSafely } from '@blueprint/core/transport';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

/** Default body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** True for `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** The 415 for a body of another content type. */
export function unsupportedMediaType(contentType: string | undefined): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(
    `unsupported content type "${contentType ?? ''}": send the body as application/json`,
    { details: { contentType: contentType ?? null } },
  );
}

/** The 413 for a body over `limit` bytes. */
export function payloadTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is larger than ${limit} bytes`, { details: { limit } });
}

/** Parses a JSON body; a malformed or unsafe one is `MALFORMED_JSON` (400) with the parser's reason. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new MalformedJsonError('the request body is empty: send a JSON value');
  }
  try {
    return parseJsonSafely(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MalformedJsonError(reason.replace(/^malformed or unsafe JSON: /, 'malformed JSON body: '), {
      cause: error,
    });
  }
}

/**
 * The parsed body of a request whose raw bytes are at hand (Lambda, or a body already read), checked as
 * Fastify checks one: no content type and no body is no body (undefined); a body without a content type,
 * or of another content type, is 415; over `limit` bytes is 413; empty or malformed JSON is 400.
 */
export function decodeBody(
  raw: Buffer | string | undefined,
  contentType: string | undefined,
  limit: number,
): unknown {
  const empty = raw === undefined || raw.length === 0;
  if (contentType === undefined || contentType === '') {
    if (empty) return undefined;
    throw unsupportedMediaType(contentType);
  }
  if (!isJsonContentType(contentType)) throw unsupportedMediaType(contentType);
  if (empty) return parseJsonBody('');
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > limit) throw payloadTooLarge(limit);
  return parseJsonBody(typeof raw === 'string' ? raw : raw.toString('utf8'));
}
