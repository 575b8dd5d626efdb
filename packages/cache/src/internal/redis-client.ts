/**
 * Loads ioredis on demand (it is an optional peer dependency) and builds connections that never wait
 * forever: a command timeout, few retries per request, no offline queue, bounded reconnect backoff.
 */
import { createHash } from 'node:crypto';
import type { Command, Redis, RedisOptions } from 'ioredis';
import { CacheError, type UnavailableReason } from '../errors.js';

/** Connection settings of the cache's Redis clients. */
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

/** Imports ioredis, or throws `CACHE_DRIVER_MISSING` with the install command. */
export async function loadIoRedis(storeType: string): Promise<IoRedis> {
  try {
    const module = await import('ioredis');
    return { Redis: module.Redis, Command: module.Command };
  } catch (error) {
    throw new CacheError(
      'CACHE_DRIVER_MISSING',
      `the "${storeType}" cache store needs ioredis, which is not installed: run \`npm install ioredis\``,
      { cause: error, details: { store: storeType } },
    );
  }
}

/**
 * The options every cache connection uses. The main connection's commands are timed by the store
 * (one shared timer); the subscriber connection lets ioredis time its few commands (`ownTimeout`).
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

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects; leaves no timer. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Closes a client politely when it is connected, and for good in any case. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') await settleWithin(client.quit(), 250);
  client.disconnect();
}

/** Classifies an ioredis error: why Redis could not be used, and whether it says Redis is unhealthy. */
export function classifyRedisError(error: unknown): { reason: UnavailableReason; unhealthy: boolean } {
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
