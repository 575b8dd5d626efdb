/** Options of the `nats` transport: one zod schema for the topology section and for code. */
import { durationSchema, parseByteSize } from '@blueprint/core/plugin';
import type { ConnectionOptions } from 'nats';
import { z } from 'zod';
import { atLeastOne, positiveDuration } from '../../internal/schemas.js';
import type { EventTransportContext, TransportOptionsOf } from '../../transport/driver.js';
import { STREAM_NAME } from './names.js';

const SERVER = /^(nats|tls):\/\/[^\s/]+\/?$/;

/** One URL, several separated by commas, or a list; parsed into the list of servers. */
const serversSchema = z
  .union([z.string(), z.array(z.string())], {
    error: 'use a URL like "nats://127.0.0.1:4222" or a list of them',
  })
  .transform((value, ctx) => {
    const servers = (typeof value === 'string' ? value.split(',') : value)
      .map((url) => url.trim())
      .filter((url) => url.length > 0);
    const bad = servers.find((url) => !SERVER.test(url));
    if (servers.length === 0 || bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `invalid NATS url ${JSON.stringify(bad ?? value)}: use nats://host:port (or tls://host:port), several separated by commas`,
      });
      return z.NEVER;
    }
    return servers;
  });

const wholeNumber = (value: string | number): number | undefined => {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
};

/** A positive limit read by `read`, or -1 for none (a number, or a string from an environment variable). */
const limitSchema = (what: string, read: (value: string | number) => number | undefined, use: string) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const limit = value === -1 || String(value).trim() === '-1' ? -1 : read(value);
    if (limit === undefined || limit === 0 || limit < -1) {
      ctx.addIssue({ code: 'custom', message: `invalid ${what} ${JSON.stringify(value)}: use ${use}` });
      return z.NEVER;
    }
    return limit;
  });

const choice = <const T extends readonly [string, ...string[]]>(what: string, values: T) =>
  z.enum(values, {
    error: (issue) =>
      `invalid ${what} ${JSON.stringify(issue.input)}: use ${values.map((v) => JSON.stringify(v)).join(' or ')}`,
  });

/**
 * `events` with `type: "nats"`: NATS JetStream (nats-server 2.9+ started with `-js`), one stream per
 * app, a durable pull consumer per group and event, dead letters and the inbox in KV buckets.
 *
 * @example
 * "events": { "type": "nats", "url": "${NATS_URL:-nats://127.0.0.1:4222}", "ackWait": "30s" }
 */
export const natsTransportSchema = z
  .strictObject({
    type: z.literal('nats'),
    /**
     * NATS server URL (`nats://` or `tls://`), or several (`"nats://a:4222,nats://b:4222"` or a list): the
     * client connects to one and fails over to the others. Default: `"nats://127.0.0.1:4222"`.
     */
    url: serversSchema.optional().default(['nats://127.0.0.1:4222']),
    /**
     * Name of the events stream; it also prefixes the replay stream and the KV buckets. Letters, digits,
     * `_`, `-`. Default: `"bp_<app name>"` in an app (characters NATS refuses replaced by `_`), else `"bp"`.
     */
    stream: z
      .string()
      .refine((name) => STREAM_NAME.test(name), {
        error: (issue) =>
          `invalid NATS stream name ${JSON.stringify(issue.input)}: use 1 to 64 letters, digits, "_" or "-" (e.g. "bp_shop")`,
      })
      .optional(),
    /** `"file"` (survives a server restart) or `"memory"`. Default: `"file"`. */
    storage: choice('storage', ['file', 'memory']).optional().default('file'),
    /** Stream and KV replicas in a JetStream cluster (1, 3 or 5). Default: 1. */
    replicas: atLeastOne.optional().default(1),
    /**
     * `"interest"`: an event is deleted once every group bound to it acked it (or dead-lettered it);
     * events published to a name no group is bound to are not kept. `"limits"`: events stay until `maxAge`
     * / `maxBytes`, acked or not. Fixed when the stream is created. Default: `"interest"`.
     */
    retention: choice('retention', ['interest', 'limits']).optional().default('interest'),
    /**
     * Longest time the stream keeps an event, handled or not: an event still pending in a group after
     * this long is dropped (`0`: no limit). Inbox entries are kept at least this long. Default: `"168h"` (7 days).
     */
    maxAge: durationSchema.optional().default(7 * 24 * 3_600_000),
    /**
     * Most bytes the events stream holds (`-1`: no limit). When full, `publish` rejects with
     * `EVENTS_QUEUE_FULL` and nothing already stored is dropped. Bytes or `"512mb"`. Default: -1.
     */
    maxBytes: limitSchema(
      'maxBytes',
      parseByteSize,
      'a number of bytes, a size like "512mb", or -1 for no limit',
    )
      .optional()
      .default(-1),
    /**
     * How long JetStream remembers published event ids to drop a second publish of the same id (a
     * publish retried after `EVENTS_PUBLISH_TIMEOUT`); at most `maxAge`. The server keeps every id of
     * this window in memory. Default: `"2m"`.
     */
    duplicateWindow: durationSchema.optional().default(120_000),
    /**
     * Visibility timeout (`ack_wait`), at least `"100ms"`: a delivery not settled this long after it was
     * handed out is redelivered to any replica. Running handlers keep their deliveries' leases fresh
     * (`+WPI`), so it bounds how long a crashed replica's events wait. Default: `"30s"`.
     */
    ackWait: durationSchema
      .refine((ms) => ms >= 100, {
        error: (issue) =>
          `invalid ackWait ${String(issue.input)} ms: use at least "100ms" (handlers renew it while they run)`,
      })
      .optional()
      .default(30_000),
    /**
     * JetStream `max_deliver` of every consumer: `-1` lets the bus decide (it dead-letters at `maxAttempts`,
     * and at `maxAttempts + 1` deliveries when consumers crashed while handling). With a limit, a retry on
     * the last allowed delivery is dead-lettered, and so is (from the server's advisory) an event whose last
     * delivery went to a consumer that died. Keep it above your handlers' `maxAttempts`. Default: -1.
     */
    maxDeliver: limitSchema('maxDeliver', wholeNumber, 'a whole number >= 1, or -1 to let the bus decide')
      .optional()
      .default(-1),
    /**
     * Most deliveries of one consumer unacked at once across replicas, retries waiting for their delay
     * included (`max_ack_pending`); when reached, the server stops delivering. Default: 10000.
     */
    maxAckPending: atLeastOne.optional().default(10_000),
    /** How long one pull request waits on the server for events (at least 100 ms). Default: `"10s"`. */
    pullExpires: durationSchema
      .transform((ms) => Math.max(100, ms))
      .optional()
      .default(10_000),
    /** Most time a publish (and a dead-letter or inbox write) waits for JetStream's acknowledgement. Default: `"2s"`. */
    publishTimeout: positiveDuration.optional().default(2_000),
    /** Most time connecting waits for the server, and the timeout of stream and consumer management requests. Default: `"5s"`. */
    connectTimeout: positiveDuration.optional().default(5_000),
    /**
     * How long each group's inbox keeps a completed event id. Default: the larger of the bus's
     * `inboxRetention` and `maxAge`, so an id stays as long as the stream may still hold its event.
     */
    inboxTtl: durationSchema.optional(),
    /** Client name shown by the server (`nats server report connections`). Default: `"blueprint-events-<host>-<pid>"`. */
    name: z.string().min(1).optional(),
  })
  .superRefine((options, ctx) => {
    if (options.maxAge > 0 && options.duplicateWindow > options.maxAge) {
      ctx.addIssue({
        code: 'custom',
        path: ['duplicateWindow'],
        message: `duplicateWindow (${options.duplicateWindow} ms) must not be longer than maxAge (${options.maxAge} ms): JetStream refuses it`,
      });
    }
  });

/** Options of `createNatsTransport` (durations are ms or strings like `"30s"`). */
export type NatsTransportOptions = TransportOptionsOf<typeof natsTransportSchema>;

/** The options once parsed: defaults filled in, durations in ms, `url` as the list of servers. */
export type NatsSettings = z.output<typeof natsTransportSchema>;

/** What `createNatsTransport` takes besides its options: what a topology file cannot hold. */
export interface NatsTransportContext extends EventTransportContext {
  /**
   * Extra nats.js connection options (TLS, `user`/`pass`, `token`, `authenticator`...). The transport's
   * reconnect settings win.
   */
  readonly natsOptions?: Partial<ConnectionOptions> | undefined;
}
