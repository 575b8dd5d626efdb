/** Options of the `kafka` transport: one zod schema for the topology section and for code. */
import { byteSizeSchema, durationSchema, flagSchema, wholeNumberSchema } from '@blueprint/core/plugin';
import type { KafkaConfig } from 'kafkajs';
import { z } from 'zod';
import { positiveDuration } from '../../internal/schemas.js';
import type { EventTransportContext, TransportOptionsOf } from '../../transport/driver.js';

const BROKER = /^[^\s/:,]+:\d{1,5}$/;

/** One `host:port`, several separated by commas, or a list; parsed into the list. */
const brokersSchema = z
  .union([z.string(), z.array(z.string())], {
    error: 'use a bootstrap address like "127.0.0.1:9092" or a list of them',
  })
  .transform((value, ctx) => {
    const brokers = (typeof value === 'string' ? value.split(',') : value)
      .map((broker) => broker.trim().replace(/^kafka:\/\//, ''))
      .filter((broker) => broker.length > 0);
    const bad = brokers.find((broker) => !BROKER.test(broker));
    if (brokers.length === 0 || bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid Kafka broker ${JSON.stringify(bad ?? value)}: use host:port (e.g. "127.0.0.1:9092"), several separated by commas`,
      });
      return z.NEVER;
    }
    return brokers;
  });

/** A whole number of at least 1, or -1 for the broker's default. */
const brokerDefault = (what: string) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const n = typeof value === 'number' ? value : Number(value.trim());
    if (n === -1 || (Number.isInteger(n) && n >= 1 && n <= 100_000)) return n;
    ctx.addIssue({
      code: 'custom',
      message: `invalid ${what} ${JSON.stringify(value)}: use a whole number >= 1, or -1 for the broker's default`,
    });
    return z.NEVER;
  });

/**
 * `events` with `type: "kafka"`: one topic per event name, one Kafka consumer group per subscribing
 * service and event, retries through a retry topic per group, dead letters in a compacted topic.
 *
 * @example
 * "events": { "type": "kafka", "brokers": "${KAFKA_BROKERS:-127.0.0.1:9092}", "partitions": 6, "replicationFactor": 3 }
 */
export const kafkaTransportSchema = z
  .strictObject({
    type: z.literal('kafka'),
    /** Bootstrap brokers, `host:port`, several separated by commas or as a list. Default: `"127.0.0.1:9092"`. */
    brokers: brokersSchema.optional().default(['127.0.0.1:9092']),
    /**
     * Prefix of every topic and consumer group id: letters, digits, `.`, `_`, `-`. Default: `"bp.<app name>"`
     * in an app, else `"bp"`.
     */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'use 1 to 100 letters, digits, ".", "_" or "-" (e.g. "bp.shop")')
      .optional(),
    /** Client id the brokers see in their logs and quotas. Default: `"blueprint-events-<host>-<pid>"`. */
    clientId: z.string().min(1).optional(),
    /**
     * `true`: topics that do not exist yet are created when the transport first needs them, with
     * `partitions` and `replicationFactor`. `false`: every topic must exist already; a missing one is
     * refused with `EVENTS_CONFIG_INVALID` naming it (create it with your tooling). Default: `true`.
     */
    createTopics: flagSchema.optional().default(true),
    /**
     * Partitions of a topic the transport creates: at most this many replicas of a group share one
     * event's load, and events with one key keep their order within their partition. `-1`: the
     * broker's `num.partitions`. Default: 3.
     */
    partitions: brokerDefault('partitions').optional().default(3),
    /** Replicas of each partition of a topic the transport creates. `-1`: the broker's `default.replication.factor`. Default: -1. */
    replicationFactor: brokerDefault('replicationFactor').optional().default(-1),
    /** `retention.ms` of event and retry topics the transport creates (`0`: the broker's default). Default: 0. */
    retention: durationSchema.optional().default(0),
    /**
     * How long a consumer may go without a heartbeat before the group gives its partitions to the other
     * replicas: it bounds how long a crashed replica's events wait. Default: `"30s"`.
     */
    sessionTimeout: durationSchema
      .refine((ms) => ms >= 1_000, { error: 'use a sessionTimeout of at least "1s"' })
      .optional()
      .default(30_000),
    /** How often consumers heartbeat (and notice a rebalance); below `sessionTimeout`. Default: a third of `sessionTimeout`, at most `"3s"`. */
    heartbeatInterval: positiveDuration.optional(),
    /** How long the group waits for every member to rejoin in a rebalance (running handlers finish first). Default: `"60s"`. */
    rebalanceTimeout: positiveDuration.optional().default(60_000),
    /** How long a fetch waits on the broker for new events. Default: `"1s"`. */
    maxWait: positiveDuration.optional().default(1_000),
    /** Largest encoded event, in bytes or a size (`"1mb"`); larger ones are refused at publish. Keep it below the broker's `message.max.bytes`. Default: 1000000. */
    maxEventBytes: byteSizeSchema.optional().default(1_000_000),
    /** Most time a publish (and a retry, dead-letter or inbox write) waits for the broker's acknowledgement. Default: `"5s"`. */
    publishTimeout: positiveDuration.optional().default(5_000),
    /** Most time connecting waits for the brokers. Default: `"10s"`. */
    connectTimeout: positiveDuration.optional().default(10_000),
    /**
     * How long each group's inbox topic keeps a completed id (its `retention.ms`, set when the transport
     * creates it); the bus's `inboxRetention` is used instead when longer. Default: `"1h"`.
     */
    inboxRetention: durationSchema.optional(),
    /** Most publishes sent to the broker in one produce request. Default: 1000. */
    produceBatch: wholeNumberSchema(1, 100_000).optional().default(1_000),
  })
  .superRefine((options, ctx) => {
    if (options.heartbeatInterval !== undefined && options.heartbeatInterval >= options.sessionTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeatInterval'],
        message: `heartbeatInterval (${options.heartbeatInterval} ms) must be below sessionTimeout (${options.sessionTimeout} ms); about a third of it is usual`,
      });
    }
  });

/** Options of `createKafkaTransport` (durations are ms or strings like `"5s"`). */
export type KafkaTransportOptions = TransportOptionsOf<typeof kafkaTransportSchema>;

/** The options once parsed: defaults filled in, durations in ms, `brokers` as a list. */
export type KafkaSettings = z.output<typeof kafkaTransportSchema>;

/** What `createKafkaTransport` takes besides its options: what a topology file cannot hold. */
export interface KafkaTransportContext extends EventTransportContext {
  /**
   * Extra kafkajs client options: `ssl`, `sasl`, `logLevel`, `logCreator`... The transport's brokers,
   * client id, timeouts and retries win. kafkajs logs nothing unless you give a `logLevel`.
   */
  readonly kafkaOptions?: Partial<KafkaConfig> | undefined;
}
