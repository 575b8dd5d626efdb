/** Options of the `redis-streams` transport: one zod schema for the topology section and for code. */
import { countSchema, durationSchema } from '@blueprint/core/plugin';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { atLeastOne, positiveDuration } from '../../internal/schemas.js';
import type { EventTransportContext, TransportOptionsOf } from '../../transport/driver.js';

/**
 * `events` with `type: "redis-streams"`: one stream per event name, one consumer group per subscribing
 * service. Use a Redis with `maxmemory-policy noeviction` and AOF on.
 *
 * @example
 * "events": { "type": "redis-streams", "url": "${EVENTS_REDIS_URL:-redis://127.0.0.1:6379}", "visibilityTimeout": "30s" }
 */
export const redisStreamsTransportSchema = z
  .strictObject({
    type: z.literal('redis-streams'),
    /** Redis URL (`redis://` or `rediss://`, with password and db if needed); may differ from the cache's Redis. Default: `"redis://127.0.0.1:6379"`. */
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'use a URL like "redis://127.0.0.1:6379" (or rediss:// for TLS)')
      .optional()
      .default('redis://127.0.0.1:6379'),
    /** Prefix of every key; no braces or spaces. Default: `"bp:<app name>"` in an app, else `"bp"`. */
    prefix: z
      .string()
      .regex(/^[^{}\s]+$/, 'use a non-empty prefix without braces or spaces, e.g. "bp:shop"')
      .optional(),
    /** Entries each stream keeps, about (trimmed by `MINID`, never past pending or undelivered entries). Default: 100000. */
    maxLen: countSchema.optional().default(100_000),
    /**
     * `"safe"`: never trim an entry that is pending or not yet delivered to every group (a stalled group
     * makes the stream grow past `maxLen`). `"capped"`: trim to `maxLen` anyway and count the pending or
     * undelivered entries removed (`dropped` in stats). Default: `"safe"`.
     */
    trim: z.enum(['safe', 'capped'], { error: 'use "safe" or "capped"' }).optional().default('safe'),
    /** How often streams that received events are trimmed. Default: `"1s"`. */
    trimInterval: positiveDuration.optional().default(1_000),
    /** How long one `XREADGROUP` blocks waiting for events. Default: `"5s"`. */
    block: positiveDuration.optional().default(5_000),
    /** Most entries read per `XREADGROUP` (also bounded by free handler slots). Default: 100. */
    count: atLeastOne.optional().default(100),
    /** How often each consumer claims entries left idle by other replicas, and moves due retries. Default: `"5s"`. */
    claimInterval: positiveDuration.optional().default(5_000),
    /**
     * How long an entry may stay pending without its consumer showing life before another replica claims
     * it (`XAUTOCLAIM` minimum idle time). Running handlers keep their entries' leases fresh, so it bounds
     * how long a crashed replica's events wait. Keep it above your handlers' p99; it must exceed
     * `claimInterval`. Default: `"30s"`.
     */
    visibilityTimeout: durationSchema.optional().default(30_000),
    /** Most time a publish (and any command on the shared connection) waits for Redis. Default: `"2s"`. */
    publishTimeout: positiveDuration.optional().default(2_000),
    /** Most time connecting waits for Redis. Default: `"5s"`. */
    connectTimeout: positiveDuration.optional().default(5_000),
    /**
     * This process's consumer name in every group. A stable name (the pod name) lets a restarted process
     * pick up its own pending entries at once instead of after the visibility timeout. Default:
     * `<hostname>-<pid>-<random>`.
     */
    consumerName: z.string().min(1).optional(),
    /** Consumers with nothing pending that have not read for this long are deleted from their group. Default: `"1h"`. */
    staleConsumerAfter: durationSchema.optional().default(3_600_000),
  })
  .superRefine((options, ctx) => {
    if (options.visibilityTimeout <= options.claimInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['visibilityTimeout'],
        message: `visibilityTimeout (${options.visibilityTimeout} ms) must be longer than claimInterval (${options.claimInterval} ms), or running handlers lose their entries to other replicas`,
      });
    }
  });

/** Options of `createRedisStreamsTransport` (durations are ms or strings like `"2s"`). */
export type RedisStreamsTransportOptions = TransportOptionsOf<typeof redisStreamsTransportSchema>;

/** The options once parsed: defaults filled in, durations in ms. */
export type RedisStreamsSettings = z.output<typeof redisStreamsTransportSchema>;

/** What `createRedisStreamsTransport` takes besides its options: what a topology file cannot hold. */
export interface RedisStreamsTransportContext extends EventTransportContext {
  /** Extra ioredis options (TLS, username, `family`...). The transport's timeouts and retries win. */
  readonly redisOptions?: RedisOptions | undefined;
}
