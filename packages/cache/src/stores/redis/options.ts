/**
 * The options of the Redis-backed stores (`redis`, and `tiered` for its L2): one schema shape, the
 * code-only `client`, and their parser.
 */
import { countSchema, durationSchema, type MessageSigner } from '@blueprint/core/plugin';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { positiveCountSchema } from '../../internal/schemas.js';
import { parseStoreOptions, type StoreOptions } from '../../transport/driver.js';

const redisUrlSchema = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'a Redis url is required, e.g. "redis://127.0.0.1:6379" (or, in code, an ioredis client)'
        : undefined,
  })
  .regex(/^rediss?:\/\/\S+$/, { message: 'invalid url: use a Redis URL like "redis://127.0.0.1:6379"' });

/** `breaker`: when Redis fails, stop waiting on it for a while. */
const breakerSchema = z.strictObject({
  /** Consecutive failed commands (errors or timeouts) that open the breaker. Default: 3. */
  threshold: positiveCountSchema.optional().default(3),
  /** How long the breaker stays open before one probe command is let through. Default: `"2s"`. */
  openFor: durationSchema.optional().default(2_000),
});

/** `lock`: a short Redis lock on misses so one process loads a key at a time. */
const lockSchema = z.strictObject({
  /** How long a lock is held at most (the loader should finish well within it). Default: `"2s"`. */
  ttl: durationSchema.optional().default(2_000),
  /** How long another process waits for the holder's value before loading itself. Default: `"1s"`. */
  wait: durationSchema.optional().default(1_000),
});

/** The options of every Redis-backed store (`redis`, and `tiered` for its L2). */
export const redisStoreShape = {
  /** Redis URL, e.g. `redis://127.0.0.1:6379/0`. Required (in code, unless `client` is given). */
  url: redisUrlSchema,
  /** Prefix of every key (never empty). Default: `"cache:"`; in an app `"<app name>:cache:"`. */
  prefix: z
    .string()
    .min(1, {
      message: 'the prefix is empty; give a prefix such as "myapp:cache:" so clear() cannot touch other keys',
    })
    .optional(),
  /** How long one command may take before it fails. Default: `"50ms"`. */
  commandTimeout: durationSchema.optional().default(50),
  /** How long opening a connection may take. Default: `"1s"`. */
  connectTimeout: durationSchema.optional().default(1_000),
  /** ioredis retries of a command whose connection dropped. Default: 1. */
  maxRetriesPerRequest: countSchema.optional().default(1),
  /** The breaker in front of Redis. Default: `{ "threshold": 3, "openFor": "2s" }`. */
  breaker: breakerSchema.optional().default({ threshold: 3, openFor: 2_000 }),
  /** Enables the cross-process lock on misses (see the README). Default: off. */
  lock: lockSchema.optional(),
};

/**
 * Options of the `redis` store: the topology section `{ "type": "redis", "url": ... }`, and
 * `redisStore(options)` without `type`.
 */
export const redisStoreSchema = z.strictObject({ type: z.literal('redis'), ...redisStoreShape });

/** Options of the breaker in front of Redis. */
export type RedisBreakerOptions = z.input<typeof breakerSchema>;

/** Options of the cross-process lock taken on a miss. */
export type RedisLockOptions = z.input<typeof lockSchema>;

/** What a Redis-backed store is given in code only, besides its schema's options. */
export interface RedisClientOption {
  /**
   * An ioredis client to use instead of opening one (then `url` may be left out). The store does not
   * close it, and its own options apply: give it a `commandTimeout` and `enableOfflineQueue: false`, or
   * calls may wait on a Redis that does not answer.
   */
  readonly client?: Redis | undefined;
  /** Redis URL, e.g. `redis://127.0.0.1:6379/0`. Required unless `client` is given. */
  readonly url?: string | undefined;
  /**
   * Signs every entry the store writes (and, in a tiered store, every invalidation message) and refuses
   * what it reads without a valid signature: an unsigned, wrongly signed or moved entry is a miss
   * (`CACHE_ENTRY_CORRUPT`, reason `signature`), an unsigned invalidation message is ignored. The cache
   * plugin passes `messageSigner(topology, "cache")` when the topology authenticates calls. Default:
   * nothing signed or checked.
   */
  readonly signer?: MessageSigner | undefined;
}

/** Options of `redisStore(options)`. */
export type RedisStoreOptions = Omit<StoreOptions<typeof redisStoreSchema>, 'url'> & RedisClientOption;

/**
 * Parses the options of a Redis-backed store with its schema; `url` may be left out when an ioredis
 * `client` is given. @internal
 */
export function parseRedisOptions<Schema extends z.ZodObject>(
  schema: Schema,
  options: RedisClientOption,
  subject: string,
): z.output<Schema> {
  const { client, signer: _signer, ...rest } = options;
  const checked =
    client === undefined ? schema : (schema.partial({ url: true } as never) as unknown as Schema);
  return parseStoreOptions(checked, rest, subject);
}
