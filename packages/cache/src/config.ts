/**
 * The `cache` section of the topology: which store a process uses, as a discriminated union on
 * `type`. Durations read `"50ms"`, `"2s"`; sizes `"64mb"`; every value may come from `${ENV:-default}`.
 *
 * @example
 * "cache": { "type": "tiered", "url": "${REDIS_URL:-redis://127.0.0.1:6379}", "l1": { "maxEntries": 5000 } }
 */
import { byteSizeSchema, countSchema, durationSchema, transportUnion } from '@blueprint/core';
import { z } from 'zod';
import type { CacheStore } from './store.js';
import { memoryStore } from './stores/memory-store.js';
import { redisStore } from './stores/redis-store.js';
import { tieredStore } from './stores/tiered-store.js';

const positiveCount = countSchema.refine((n) => n >= 1, { message: 'use a whole number >= 1' });

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/\S+$/, { message: 'invalid url: use a Redis URL like "redis://127.0.0.1:6379"' });

/** `breaker`: when Redis fails, stop waiting on it for a while. */
const breakerSchema = z.strictObject({
  /** Consecutive failed commands that open the breaker. Default: 3. */
  threshold: positiveCount.optional().default(3),
  /** How long it stays open before one probe. Default: `"2s"`. */
  openFor: durationSchema.optional().default(2_000),
});

/** `lock`: a short Redis lock on misses so one process loads a key at a time. */
const lockSchema = z.strictObject({
  /** Longest time a lock is held. Default: `"2s"`. */
  ttl: durationSchema.optional().default(2_000),
  /** How long other processes wait for the holder's value. Default: `"1s"`. */
  wait: durationSchema.optional().default(1_000),
});

const redisShape = {
  /** Redis URL. Required. */
  url: redisUrl,
  /** Key prefix. Default: `"<app name>:cache:"`. */
  prefix: z.string().min(1).optional(),
  /** Longest wait for one command. Default: `"50ms"`. */
  commandTimeout: durationSchema.optional().default(50),
  /** Longest wait to open a connection. Default: `"1s"`. */
  connectTimeout: durationSchema.optional().default(1_000),
  /** ioredis retries of a command whose connection dropped. Default: 1. */
  maxRetriesPerRequest: countSchema.optional().default(1),
  /** The breaker in front of Redis. Default: `{ "threshold": 3, "openFor": "2s" }`. */
  breaker: breakerSchema.optional().default({ threshold: 3, openFor: 2_000 }),
  /** The cross-process lock on misses. Default: off. */
  lock: lockSchema.optional(),
};

/** `{ "type": "memory" }`: an LRU in each process. */
export const memoryCacheSchema = z.strictObject({
  type: z.literal('memory'),
  /** Most entries. Default: 10000. */
  maxEntries: positiveCount.optional().default(10_000),
  /** Most bytes (approximate). Default: unbounded. */
  maxBytes: byteSizeSchema.optional(),
});

/** `{ "type": "redis", "url": ... }`: entries in Redis only. */
export const redisCacheSchema = z.strictObject({ type: z.literal('redis'), ...redisShape });

/** `{ "type": "tiered", "url": ... }`: L1 memory per process in front of Redis, kept consistent by pub/sub. */
export const tieredCacheSchema = z.strictObject({
  type: z.literal('tiered'),
  ...redisShape,
  /** The L1 tier. Default: `{ "maxEntries": 10000 }`. */
  l1: z
    .strictObject({
      /** Most L1 entries. Default: 10000. */
      maxEntries: positiveCount.optional().default(10_000),
      /** Most L1 bytes (approximate). Default: unbounded. */
      maxBytes: byteSizeSchema.optional(),
      /** Longest life of an L1 copy. Default: the entry's TTL. */
      ttl: durationSchema.optional(),
    })
    .optional()
    .default({ maxEntries: 10_000 }),
  /** Invalidation channel. Default: `"<prefix>invalidate"`. */
  channel: z.string().min(1).optional(),
  /** Subscriber heartbeat period. Default: `"2s"`. */
  heartbeat: durationSchema.optional().default(2_000),
});

/** The `cache` section of a topology. */
export const cacheTopologySchema = transportUnion('cache store', [
  memoryCacheSchema,
  redisCacheSchema,
  tieredCacheSchema,
]);

/** The parsed `cache` section. */
export type CacheTopology = z.output<typeof cacheTopologySchema>;

/** What a process uses when the topology has no `cache` section. */
export const DEFAULT_CACHE_TOPOLOGY: CacheTopology = { type: 'memory', maxEntries: 10_000 };

/**
 * Builds the store a `cache` section describes. The Redis key prefix defaults to `"<appName>:cache:"`.
 * Nothing connects until the store's `connect()`.
 */
export function createStoreFromTopology(config: CacheTopology, context: { appName: string }): CacheStore {
  switch (config.type) {
    case 'memory':
      return memoryStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes });
    case 'redis':
      return redisStore({ ...config, prefix: config.prefix ?? `${context.appName}:cache:` });
    case 'tiered':
      return tieredStore({ ...config, prefix: config.prefix ?? `${context.appName}:cache:` });
    default: {
      const unknown: never = config;
      throw new Error(`unknown cache store ${JSON.stringify((unknown as { type: unknown }).type)}`);
    }
  }
}
