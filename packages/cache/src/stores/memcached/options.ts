/**
 * The options of the `memcached` store: its servers, key prefix, timeouts, breaker, lock, item size
 * limit, and the optional L1 tier with the Redis channel its invalidations travel on.
 */
import { byteSizeSchema, durationSchema } from '@blueprint/core/plugin';
import { z } from 'zod';
import { parseStoreOptions, type StoreOptions } from '../../transport/driver.js';
import { redisStoreShape } from '../redis/options.js';
import { tieredStoreSchema } from '../tiered/options.js';

const serverSchema = z
  .string()
  .trim()
  .regex(/^[^\s:/]+:\d{1,5}$/, {
    message: 'invalid server: use "host:port", e.g. "127.0.0.1:11211"',
  });

/** `servers`: a list, or one comma-separated text (handy with `${MEMCACHED_SERVERS}`). */
const serversSchema = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').filter((part) => part.trim() !== '') : value),
  z
    .array(serverSchema, {
      error: (issue) =>
        issue.input === undefined
          ? 'memcached servers are required, e.g. ["127.0.0.1:11211"] or "host1:11211,host2:11211"'
          : undefined,
    })
    .min(1, { message: 'give at least one memcached server, e.g. ["127.0.0.1:11211"]' })
    .refine((servers) => new Set(servers).size === servers.length, {
      message: 'a memcached server is listed twice',
    }),
);

/** `invalidation`: the Redis pub/sub channel that keeps the L1 copies of several processes consistent. */
const invalidationSchema = z.strictObject({
  /** Redis URL of the invalidation channel. Required with `l1`. */
  url: redisStoreShape.url,
  /** Pub/sub channel of invalidation messages. Default: `"<prefix>invalidate"`. */
  channel: z.string().min(1).optional(),
  /** How often the subscriber connection is pinged (a failed ping reconnects it and clears L1). Default: `"2s"`. */
  heartbeat: tieredStoreSchema.shape.heartbeat,
});

/**
 * Options of the `memcached` store: the topology section `{ "type": "memcached", "servers": [...] }`, and
 * `memcachedStore(options)` without `type`.
 */
export const memcachedStoreSchema = z
  .strictObject({
    type: z.literal('memcached'),
    /** The memcached servers (`host:port`); keys are spread over them by consistent hashing. Required. */
    servers: serversSchema,
    /** Prefix of every key (never empty, no spaces). Default: `"cache:"`; in an app `"<app name>:cache:"`. */
    prefix: redisStoreShape.prefix.refine(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern refuses
      (prefix) => prefix === undefined || (!/[\s\u0000-\u001f\u007f]/.test(prefix) && prefix.length <= 100),
      { message: 'a memcached key prefix has no spaces or control characters and at most 100 characters' },
    ),
    /** How long one command may take before it fails. Default: `"50ms"`. */
    commandTimeout: durationSchema.optional().default(50),
    /** How long opening a connection may take. Default: `"1s"`. */
    connectTimeout: durationSchema.optional().default(1_000),
    /** The largest item the servers take (memcached's `-I`). Default: `"1mb"`. */
    maxItemSize: byteSizeSchema
      .refine((bytes) => bytes >= 1_024, { message: 'use at least "1kb" (memcached takes at least that)' })
      .optional()
      .default(1_048_576),
    /** One breaker per server. Default: `{ "threshold": 3, "openFor": "2s" }`. */
    breaker: redisStoreShape.breaker,
    /** Enables the cross-process lock on misses (memcached `add` with an expiry). Default: off. */
    lock: redisStoreShape.lock,
    /** An L1 memory tier in each process in front of memcached. Default: none (needs `invalidation`). */
    l1: tieredStoreSchema.shape.l1.removeDefault().optional(),
    /** Where L1 invalidations travel: a Redis pub/sub channel (memcached has none). Required with `l1`. */
    invalidation: invalidationSchema.optional(),
  })
  .superRefine((options, context) => {
    if (options.l1 !== undefined && options.invalidation === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['invalidation'],
        message:
          'l1 needs invalidation: memcached has no pub/sub, so give a Redis for the invalidation messages, e.g. "invalidation": { "url": "redis://127.0.0.1:6379" }',
      });
    }
    if (options.l1 === undefined && options.invalidation !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['invalidation'],
        message: 'invalidation is only used with l1 (an L1 tier in each process); add "l1": {} or remove it',
      });
    }
  });

/** Options of `memcachedStore(options)`. */
export type MemcachedStoreOptions = StoreOptions<typeof memcachedStoreSchema>;

/** The parsed options. @internal */
export type ParsedMemcachedOptions = z.output<typeof memcachedStoreSchema>;

/** Parses the options of a memcached store given in code. @internal */
export function parseMemcachedOptions(
  options: MemcachedStoreOptions,
  subject: string,
): ParsedMemcachedOptions {
  return parseStoreOptions(memcachedStoreSchema, options, subject);
}
