/**
 * The `events` section of the topology: which transport carries events, with its options, and the
 * defaults of handlers. A discriminated union on `type`; an unknown type is an error listing the allowed
 * ones.
 *
 * @example
 * "events": { "type": "redis-streams", "url": "${EVENTS_REDIS_URL:-redis://127.0.0.1:6379}", "visibilityTimeout": "30s" }
 */
import { byteSizeSchema, countSchema, durationSchema, flagSchema, transportUnion } from '@blueprint/core';
import { z } from 'zod';
import type { HandlerDefaults } from './event-bus.js';
import type { EventTransport } from './transport.js';
import { createMemoryTransport } from './transports/memory.js';
import { createNatsTransport } from './transports/nats.js';
import { createRedisStreamsTransport } from './transports/redis-streams.js';

const atLeastOne = countSchema.refine((n) => n >= 1, { message: 'use a whole number >= 1' });

/** Keys every transport type accepts: handler defaults and shutdown. */
const commonShape = {
  /** Attempts before dead-lettering, for handlers that do not set `maxAttempts`. Default: 5. */
  maxAttempts: atLeastOne.optional(),
  /** Handlers running at once per handler and process, for handlers that do not set it. Default: 16. */
  concurrency: atLeastOne.optional(),
  /** Default backoff between attempts. Default: `{ "initial": "100ms", "factor": 2, "max": "30s", "jitter": 0.2 }`. */
  backoff: z
    .strictObject({
      /** Delay after the first failure. */
      initial: durationSchema.optional(),
      /** Largest delay. */
      max: durationSchema.optional(),
      /** Growth per attempt (>= 1). */
      factor: z.number().min(1).optional(),
      /** Random stretch of each delay, 0 to 1. */
      jitter: z.number().min(0).max(1).optional(),
    })
    .optional(),
  /** Inbox for handlers that do not set it. Default: false. */
  inbox: flagSchema.optional(),
  /** Least time the inbox keeps a completed id. Default: `"10m"`. */
  inboxRetention: durationSchema.optional(),
  /** How long stopping waits for running handlers. Default: the topology's `shutdownTimeout`. */
  drainTimeout: durationSchema.optional(),
};

/** `events` with `type: "memory"`: in-process, nothing survives the process. */
export const memoryEventsSchema = z.strictObject({
  type: z.literal('memory'),
  ...commonShape,
  /** Most events waiting per group. Default: 10000. */
  maxQueue: atLeastOne.optional(),
  /** `"wait"` for room or `"fail"` with `EVENTS_QUEUE_FULL` when a group's queue is full. Default: `"wait"`. */
  onFull: z.enum(['wait', 'fail']).optional(),
  /** How long a publish waits for room. Default: `"10s"`. */
  publishTimeout: durationSchema.optional(),
  /** Give every group its own decoded copy of each event, as a broker would. Default: false. */
  serialize: flagSchema.optional(),
});

/** `events` with `type: "redis-streams"`. Use a Redis with `maxmemory-policy noeviction` and AOF on. */
export const redisStreamsEventsSchema = z.strictObject({
  type: z.literal('redis-streams'),
  ...commonShape,
  /** Redis URL, e.g. `"redis://127.0.0.1:6379"`. May differ from the cache's Redis. */
  url: z.string().regex(/^rediss?:\/\//, 'use a URL like "redis://127.0.0.1:6379"'),
  /** Key prefix. Default: `"bp:<app name>"`. */
  prefix: z.string().min(1).optional(),
  /** Entries kept per stream, about. Default: 100000. */
  maxLen: countSchema.optional(),
  /** `"safe"` (never trim pending or undelivered entries) or `"capped"` (count what is dropped). Default: `"safe"`. */
  trim: z.enum(['safe', 'capped']).optional(),
  /** How often streams are trimmed. Default: `"1s"`. */
  trimInterval: durationSchema.optional(),
  /** `XREADGROUP` BLOCK time. Default: `"5s"`. */
  block: durationSchema.optional(),
  /** `XREADGROUP` COUNT. Default: 100. */
  count: atLeastOne.optional(),
  /** Claim loop period. Default: `"5s"`. */
  claimInterval: durationSchema.optional(),
  /** Idle time after which another replica claims an entry. Default: `"30s"`. */
  visibilityTimeout: durationSchema.optional(),
  /** Bound on a publish. Default: `"2s"`. */
  publishTimeout: durationSchema.optional(),
  /** Bound on connecting at start. Default: `"5s"`. */
  connectTimeout: durationSchema.optional(),
  /** This process's consumer name. Default: `<hostname>-<pid>-<random>`. */
  consumerName: z.string().min(1).optional(),
  /** Idle consumers with nothing pending are removed after this long. Default: `"1h"`. */
  staleConsumerAfter: durationSchema.optional(),
});

/** `events` with `type: "nats"`: NATS JetStream (nats-server 2.9+ started with `-js`). See `createNatsTransport`. */
export const natsEventsSchema = z.strictObject({
  type: z.literal('nats'),
  ...commonShape,
  /** NATS URL(s), e.g. `"nats://127.0.0.1:4222"`, several separated by commas. */
  url: z
    .string()
    .regex(/^(nats|tls):\/\//, 'use a URL like "nats://127.0.0.1:4222" (several separated by commas)'),
  /** Events stream name (also prefixes the replay stream and KV buckets). Default: `"bp_<app name>"`. */
  stream: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1 to 64 letters, digits, "_" or "-"')
    .optional(),
  /** `"file"` or `"memory"`. Default: `"file"`. */
  storage: z.enum(['file', 'memory']).optional(),
  /** Stream and KV replicas. Default: 1. */
  replicas: atLeastOne.optional(),
  /** `"interest"` or `"limits"`. Default: `"interest"`. */
  retention: z.enum(['interest', 'limits']).optional(),
  /** Longest time an event is kept (`0`: no limit). Default: `"168h"`. */
  maxAge: durationSchema.optional(),
  /** Most bytes the events stream holds. Default: no limit. */
  maxBytes: byteSizeSchema.optional(),
  /** JetStream duplicate window for published ids. Default: `"2m"`. */
  duplicateWindow: durationSchema.optional(),
  /** Visibility timeout (`ack_wait`). Default: `"30s"`. */
  ackWait: durationSchema.optional(),
  /** JetStream `max_deliver`, or -1 to let the bus decide. Default: -1. */
  maxDeliver: z.union([z.literal(-1), atLeastOne]).optional(),
  /** JetStream `max_ack_pending` per consumer. Default: 10000. */
  maxAckPending: atLeastOne.optional(),
  /** How long one pull request waits on the server. Default: `"10s"`. */
  pullExpires: durationSchema.optional(),
  /** Bound on a publish. Default: `"2s"`. */
  publishTimeout: durationSchema.optional(),
  /** Bound on connecting at start. Default: `"5s"`. */
  connectTimeout: durationSchema.optional(),
  /** How long a group's inbox keeps a completed id. Default: the larger of `inboxRetention` and `maxAge`. */
  inboxTtl: durationSchema.optional(),
  /** Client name shown by the server. Default: `"blueprint-events-<host>-<pid>"`. */
  name: z.string().min(1).optional(),
});

/** The `events` section. */
export const eventsSectionSchema = transportUnion('event transport', [
  memoryEventsSchema,
  redisStreamsEventsSchema,
  natsEventsSchema,
]);

/** The parsed `events` section. */
export type EventsConfig = z.output<typeof eventsSectionSchema>;
/** The parsed `events` section of type `memory`. */
export type MemoryEventsConfig = z.output<typeof memoryEventsSchema>;
/** The parsed `events` section of type `redis-streams`. */
export type RedisStreamsEventsConfig = z.output<typeof redisStreamsEventsSchema>;
/** The parsed `events` section of type `nats`. */
export type NatsEventsConfig = z.output<typeof natsEventsSchema>;

/** Drops keys whose value is undefined (options objects are exact-optional). */
function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

/** Keys of a broker section that configure the bus and its handlers, not the transport. */
const BUS_KEYS = [
  'type',
  'maxAttempts',
  'concurrency',
  'backoff',
  'inbox',
  'inboxRetention',
  'drainTimeout',
] as const;

/** A broker section without `type` and the bus-level keys, undefined values dropped: the transport's options. */
function transportOptionsOf<C extends object>(config: C) {
  const options = { ...config } as Record<string, unknown>;
  for (const key of BUS_KEYS) delete options[key];
  return defined(options as Omit<C, (typeof BUS_KEYS)[number]>);
}

/** What the plugin knows besides the section. */
export interface TransportContext {
  /** App name, for the default key prefix. */
  readonly appName: string;
  /** Where background errors go. */
  readonly onError: (error: unknown) => void;
}

/** Builds the transport a section describes. */
export function createTransportFromConfig(config: EventsConfig, context: TransportContext): EventTransport {
  switch (config.type) {
    case 'memory': {
      const { maxQueue, onFull, publishTimeout, serialize } = config;
      return createMemoryTransport(defined({ maxQueue, onFull, publishTimeout, serialize }));
    }
    case 'redis-streams': {
      const redis = transportOptionsOf(config);
      return createRedisStreamsTransport({
        ...redis,
        prefix: redis.prefix ?? `bp:${context.appName}`,
        onError: context.onError,
      });
    }
    case 'nats': {
      const nats = transportOptionsOf(config);
      return createNatsTransport({
        ...nats,
        stream: nats.stream ?? `bp_${context.appName.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64),
        onError: context.onError,
      });
    }
    default: {
      const unknown: never = config;
      throw new Error(`unknown event transport ${JSON.stringify((unknown as { type: string }).type)}`);
    }
  }
}

/** The handler defaults a section sets. */
export function handlerDefaultsFromConfig(config: EventsConfig): HandlerDefaults {
  const { maxAttempts, concurrency, backoff, inbox } = config;
  return defined({
    maxAttempts,
    concurrency,
    backoff: backoff === undefined ? undefined : defined(backoff),
    inbox,
  });
}
