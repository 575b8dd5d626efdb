/**
 * Correlation ids at the edge: the caller's `x-correlation-id` when it is a sane id, else a new UUID.
 * The rule is the RPC server's (core's `rpc/http/protocol.ts`): 1 to 128 characters of `[A-Za-z0-9._:-]`.
 */
import { randomUUID } from 'node:crypto';

/** The header that carries the correlation id, in requests and answers. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Longest correlation id accepted from a caller, in characters. */
export const MAX_CORRELATION_ID_LENGTH = 128;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The correlation id of a request: its header when valid; a fresh UUID when it has none, or one with
 * markup, quotes, spaces or kilobytes of text that would otherwise land as sent in logs and answers.
 */
export function correlationIdFrom(value: string | readonly string[] | undefined): string {
  return typeof value === 'string' && CORRELATION_ID.test(value) ? value : randomUUID();
}
