/**
 * The Redis toolkit every Redis driver shares (the cache's stores, the Redis Streams event transport):
 * ioredis loaded on demand (an optional peer dependency), connections that never wait forever (a
 * command timeout, few retries per request, no offline queue, bounded reconnect backoff), error
 * classification, and Lua scripts.
 */
import { createHash } from 'node:crypto';
import type { Command, Redis, RedisOptions } from 'ioredis';
import type { CodedErrorClass } from '../errors.js';
import { settleWithin } from '../timing.js';
import { optionalPeer } from '../transport/optional-peer.js';

/** Why Redis could not be used: a command timed out, the connection is down, or another error. */
export type RedisUnavailableReason = 'timeout' | 'offline' | 'breaker-open' | 'error';

/** Connection settings of a driver's Redis clients. */
export interface RedisConnectionSettings {
  readonly url: string;
  readonly commandTimeout: number;
  readonly connectTimeout: number;
  readonly maxRetriesPerRequest: number;
}

/** The parts of ioredis the stores use. */
export interface IoRedis {
  readonly Redis: typeof Redis;
  readonly Command: typeof Command;
}

const importIoRedis = async (): Promise<IoRedis> => {
  const module = await import('ioredis');
  return { Redis: module.Redis, Command: module.Command };
};

/**
 * Imports ioredis, or rejects with `error` (the driver's `*_DRIVER_MISSING` class) naming the package.
 *
 * @example
 * const { Redis } = await loadIoRedis('the "redis" cache store', CacheDriverMissingError);
 */
export function loadIoRedis(needed: string, error: CodedErrorClass): Promise<IoRedis> {
  return optionalPeer({ pkg: 'ioredis', needed, error }, importIoRedis)();
}

/**
 * The options every driver connection uses. With `ownTimeout` ioredis times each command; without, the
 * driver times its commands itself (one shared timer).
 */
export function connectionOptions(settings: RedisConnectionSettings, ownTimeout = false): RedisOptions {
  return {
    lazyConnect: true,
    ...(ownTimeout ? { commandTimeout: settings.commandTimeout } : {}),
    connectTimeout: settings.connectTimeout,
    maxRetriesPerRequest: settings.maxRetriesPerRequest,
    enableOfflineQueue: false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  };
}

/** Closes a client politely when it is connected, and for good in any case. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') await settleWithin(client.quit(), 250);
  client.disconnect();
}

/** Classifies an ioredis error: why Redis could not be used, and whether it says Redis is unhealthy. */
export function classifyRedisError(error: unknown): { reason: RedisUnavailableReason; unhealthy: boolean } {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as { name?: string } | undefined)?.name === 'ReplyError') {
    return { reason: 'error', unhealthy: /^(LOADING|BUSY|MASTERDOWN|OOM|READONLY)/.test(message) };
  }
  if (/timed out/i.test(message)) return { reason: 'timeout', unhealthy: true };
  if (/writeable|closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND/i.test(message)) {
    return { reason: 'offline', unhealthy: true };
  }
  return { reason: 'error', unhealthy: true };
}

/** A Lua script run with EVALSHA, falling back to EVAL once when Redis does not know it yet. */
export class LuaScript {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
