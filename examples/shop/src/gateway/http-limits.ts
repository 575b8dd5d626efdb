/**
 * The limits of the public HTTP API, from the topology's `settings`: the same timeouts and bounds as
 * Blueprint's own servers, and an optional rate limit per client address.
 *
 * | setting            | default | what                                                              |
 * | ------------------ | ------- | ----------------------------------------------------------------- |
 * | `headersTimeout`   | `"10s"` | time for a request's headers, from the connection's start         |
 * | `requestTimeout`   | `"30s"` | time for a whole request, body included                           |
 * | `keepAliveTimeout` | `"4s"`  | idle time of a keep-alive connection                              |
 * | `maxConnections`   | 1024    | connections open at once                                          |
 * | `rateLimit`        | off     | requests per client address per `rateLimitWindow` (0 or unset: off) |
 * | `rateLimitWindow`  | `"1m"`  | the window of `rateLimit`                                         |
 */
import type { ServerOptions } from 'node:http';
import { defineError } from '@blueprint/core';
import { parseDuration } from '@blueprint/core/plugin';
import type { Settings } from '../shared/settings.js';

/** A client went over the rate limit (`RATE_LIMITED`, 429); `details` say the limit and `retryAfterMs`. */
export const RateLimitedError = defineError('RATE_LIMITED', 429, 'RateLimitedError');

/** The timeouts and bounds of the public server. */
export interface HttpLimits {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxConnections: number;
  /** Largest request head (request line and headers), in bytes: 16 KiB. */
  readonly maxHeaderSize: number;
}

/** The rate limit of the public API: at most `max` requests per client address per `windowMs`. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** The defaults: those of Blueprint's RPC server and admin listener. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 4_000,
  maxConnections: 1024,
  maxHeaderSize: 16 * 1024,
});

function durationSetting(settings: Settings, key: string, fallback: number): number {
  const value = settings[key];
  if (value === undefined || value === '') return fallback;
  const ms = parseDuration(value as string | number);
  if (ms === undefined || ms <= 0) {
    throw new Error(`settings.${key}: ${JSON.stringify(value)} is not a duration above zero, e.g. "10s"`);
  }
  return ms;
}

function countSetting(settings: Settings, key: string, fallback: number): number {
  const value = settings[key];
  if (value === undefined || value === '') return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`settings.${key}: ${JSON.stringify(value)} is not a whole number >= 0`);
  }
  return count;
}

/** The limits the settings give, defaults filled in. */
export function httpLimitsOf(settings: Settings): HttpLimits {
  const limits = {
    headersTimeout: durationSetting(settings, 'headersTimeout', DEFAULT_HTTP_LIMITS.headersTimeout),
    requestTimeout: durationSetting(settings, 'requestTimeout', DEFAULT_HTTP_LIMITS.requestTimeout),
    keepAliveTimeout: durationSetting(settings, 'keepAliveTimeout', DEFAULT_HTTP_LIMITS.keepAliveTimeout),
    maxConnections: countSetting(settings, 'maxConnections', DEFAULT_HTTP_LIMITS.maxConnections) || 1,
    maxHeaderSize: DEFAULT_HTTP_LIMITS.maxHeaderSize,
  };
  if (limits.headersTimeout > limits.requestTimeout) {
    throw new Error('settings.headersTimeout must not be longer than settings.requestTimeout');
  }
  return limits;
}

/** The rate limit the settings ask for, or undefined when it is off (the default). */
export function rateLimitOf(settings: Settings): RateLimit | undefined {
  const max = countSetting(settings, 'rateLimit', 0);
  if (max === 0) return undefined;
  return { max, windowMs: durationSetting(settings, 'rateLimitWindow', 60_000) };
}

/** The node:http server options for `limits` (Fastify's `http` option). */
export function nodeServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    maxHeaderSize: limits.maxHeaderSize,
    // Node checks the timeouts on this interval (30 s by default).
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1_000, Math.floor(Math.min(limits.headersTimeout, limits.requestTimeout) / 4)),
    ),
  };
}
