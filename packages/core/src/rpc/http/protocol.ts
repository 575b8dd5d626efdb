/**
 * The wire of the `http` RPC transport, shared by its client and its server: one `POST` per call to
 * `/rpc/<service>/<method>`, the body and the answer in the codec's JSON, the caller's remaining time in
 * a header, and the propagated headers copied into the call context.
 *
 * ```
 * POST /rpc/products/get           content-type: application/json, x-bp-timeout-ms: 2500
 * {"id":"p1"}                      → 200 {"id":"p1","priceCents":1200,...}
 *                                  → 404 {"error":{"code":"NOT_FOUND","message":"...","details":{...}}}
 * ```
 *
 * Every answer to a call of a hosted service carries the fingerprint of the contract served in
 * `x-bp-contract`; `GET /contracts/<service>` (authenticated like a call) answers the contract's
 * description, for callers of another version (see `contracts/version-guard.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { CREDENTIAL_HEADER } from '../../auth/credentials.js';

/** Request headers copied into the call context (lower-case). */
export const PROPAGATED_HEADERS = ['x-correlation-id', 'traceparent', 'tracestate', 'baggage'] as const;
/** Header carrying the caller's remaining time in milliseconds. */
export const TIMEOUT_HEADER = 'x-bp-timeout-ms';
/** Path prefix of RPC calls. */
export const RPC_PATH_PREFIX = '/rpc/';
/** Path of the liveness probe the client's `ping` asks. */
export const LIVENESS_PATH = '/health/live';

/** Path prefix of contract descriptions: `GET /contracts/<service>`. */
export const CONTRACT_PATH_PREFIX = '/contracts/';

/** The request path of the description of `service`'s contract. */
export function contractPath(service: string): string {
  return `${CONTRACT_PATH_PREFIX}${encodeURIComponent(service)}`;
}

/** The request path of a call. */
export function rpcPath(service: string, method: string): string {
  return `${RPC_PATH_PREFIX}${service}/${method}`;
}

/** What an RPC request path names. */
export type ParsedRpcPath =
  | { readonly kind: 'call'; readonly service: string; readonly method: string }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'other' };

/**
 * Reads `/rpc/<service>/<method>` (percent-decoded). `malformed` for bad percent-encoding; `other` for
 * any other path.
 */
export function parseRpcPath(url: string): ParsedRpcPath {
  if (!url.startsWith(RPC_PATH_PREFIX)) return { kind: 'other' };
  const rest = url.slice(RPC_PATH_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || rest.indexOf('/', slash + 1) !== -1) return { kind: 'other' };
  try {
    return {
      kind: 'call',
      service: decodeURIComponent(rest.slice(0, slash)),
      method: decodeURIComponent(rest.slice(slash + 1)),
    };
  } catch {
    return { kind: 'malformed' };
  }
}

/** True for `application/json`, with or without parameters. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === 'application/json') return true;
  const semicolon = value.indexOf(';');
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}

/** The absolute deadline a request's timeout header gives, or undefined. */
export function deadlineOf(headers: IncomingHttpHeaders): number | undefined {
  const header = headers[TIMEOUT_HEADER];
  const remaining = typeof header === 'string' ? Number(header) : Number.NaN;
  return Number.isFinite(remaining) && remaining >= 0 ? Date.now() + remaining : undefined;
}

/** The propagated headers of a request, its correlation id checked by {@link correlationIdOf}. */
export function propagatedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  const correlationId = out['x-correlation-id'];
  if (correlationId !== undefined && !isValidCorrelationId(correlationId)) {
    out['x-correlation-id'] = randomUUID();
  }
  return out;
}

/** The credential a request carries (`x-bp-credential`), if any. */
export function credentialOf(request: { readonly headers: IncomingHttpHeaders }): string | undefined {
  const value = request.headers[CREDENTIAL_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/** Longest correlation id accepted, in characters. */
export const MAX_CORRELATION_ID_LENGTH = 128;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * True for a correlation id Blueprint accepts from a caller: 1 to {@link MAX_CORRELATION_ID_LENGTH}
 * characters of `[A-Za-z0-9._:-]` (a UUID, a ULID, `req-42`, `host:pid.seq`). Anything else (markup,
 * quotes, spaces, kilobytes of text) would land as sent in logs, event envelopes and answers: servers
 * and the edge replace it with a fresh id.
 */
export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && CORRELATION_ID.test(value);
}

/**
 * The correlation id to use for a request: its `x-correlation-id` when valid ({@link isValidCorrelationId}),
 * a fresh UUID when it has an invalid one, undefined when it has none.
 */
export function correlationIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-correlation-id'];
  if (value === undefined) return undefined;
  return isValidCorrelationId(value) ? value : randomUUID();
}
