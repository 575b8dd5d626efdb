/**
 * The `redis-streams` transport: one stream per event name, one consumer group per subscribing service.
 *
 * - Publishing: `XADD` on a command connection with a `commandTimeout`, no retries per request and no
 *   offline queue, so `publish` rejects with a coded error within `publishTimeout` when Redis is down and
 *   never resolves for an event Redis did not store. `publishMany` appends a batch with one script call
 *   (atomic; batches over 1,000 events send several calls in one `MULTI`).
 * - Trimming: every `trimInterval`, streams that grew are trimmed to about `maxLen` entries by `MINID`,
 *   never past the oldest pending entry or past what a group has not been given yet (`trim: "capped"`
 *   trims to `maxLen` anyway and counts what it dropped).
 * - Consuming: see `redis-consumer.ts` (blocking reads, batched acks, claim loop, pending re-read after
 *   reconnects, retries through a delayed set and a per-group retry stream, dead letters in a hash).
 *
 * `ioredis` is an optional peer dependency, imported only when this transport connects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { HealthCheckResult } from '@blueprint/core';
import type { Redis, RedisOptions } from 'ioredis';
import { type EventEnvelope, encodeEnvelope } from '../envelope.js';
import { EventsError } from '../errors.js';
import { choiceOption, durationOption, wholeNumberOption } from '../option-values.js';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
  type Delivery,
  deadLetterNotFound,
  type EventTransport,
  type GroupBinding,
  parseDeadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from '../transport.js';
import { withTimeout } from '../with-timeout.js';
import { brokerUnavailable, publishTimedOut, redactUrl, transportNotOpen } from './broker-errors.js';
import { notOpenHealth, roundLatency } from './broker-health.js';
import { decodeDeadLetterRecord, oldestDeadLetters } from './dead-letter-record.js';
import { driverLoader } from './driver-loader.js';
import { ThrottledErrorReporter } from './error-reporter.js';
import { RedisConsumer, type RedisConsumerHost, type RedisConsumerSettings } from './redis-consumer.js';
import { RedisKeys } from './redis-keys.js';
import {
  publishBatchScript,
  type RedisScript,
  replayScript,
  TRIM_SCAN,
  trimScript,
} from './redis-scripts.js';

/** Options of {@link createRedisStreamsTransport}. Durations are ms or strings like `"2s"`. */
export interface RedisStreamsTransportOptions {
  /** Redis URL (`redis://` or `rediss://`, with password and db if needed). Default: `"redis://127.0.0.1:6379"`. */
  readonly url?: string;
  /** Prefix of every key; the plugin uses `"bp:<app name>"`. Default: `"bp"`. */
  readonly prefix?: string;
  /** Entries each stream keeps, about (trimmed by `MINID`, never past pending or undelivered entries). Default: 100,000. */
  readonly maxLen?: number;
  /**
   * `"safe"`: never trim an entry that is pending or not yet delivered to every group (a stalled group
   * makes the stream grow past `maxLen`). `"capped"`: trim to `maxLen` anyway and count the pending or
   * undelivered entries removed (`dropped` in stats). Default: `"safe"`.
   */
  readonly trim?: 'safe' | 'capped';
  /** How often streams that received events are trimmed. Default: `"1s"`. */
  readonly trimInterval?: number | string;
  /** How long one `XREADGROUP` blocks waiting for events. Default: `"5s"`. */
  readonly block?: number | string;
  /** Most entries read per `XREADGROUP` (also bounded by free handler slots). Default: 100. */
  readonly count?: number;
  /** How often each consumer claims entries left idle by other replicas, and moves due retries. Default: `"5s"`. */
  readonly claimInterval?: number | string;
  /**
   * How long an entry may stay pending without its consumer showing life before another replica claims
   * it (`XAUTOCLAIM` minimum idle time). Running handlers keep their entries' leases fresh, so it bounds
   * how long a crashed replica's events wait. Keep it above your handlers' p99. Default: `"30s"`.
   */
  readonly visibilityTimeout?: number | string;
  /** Most time a publish (and any command on the shared connection) waits for Redis. Default: `"2s"`. */
  readonly publishTimeout?: number | string;
  /** Most time `connect` waits for Redis at start. Default: `"5s"`. */
  readonly connectTimeout?: number | string;
  /**
   * This process's consumer name in every group. A stable name (the pod name) lets a restarted process
   * pick up its own pending entries at once instead of after the visibility timeout. Default:
   * `<hostname>-<pid>-<random>`.
   */
  readonly consumerName?: string;
  /** Consumers with nothing pending that have not read for this long are deleted from their group. Default: `"1h"`. */
  readonly staleConsumerAfter?: number | string;
  /** Extra ioredis options (TLS, username, `family`...). Timeouts and retries above win. */
  readonly redisOptions?: RedisOptions;
  /** Called with background errors of the shared connection (throttled). */
  readonly onError?: (error: unknown) => void;
}

/** Defaults of {@link RedisStreamsTransportOptions}. */
export const REDIS_STREAMS_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  prefix: 'bp',
  maxLen: 100_000,
  trim: 'safe',
  trimInterval: 1_000,
  block: 5_000,
  count: 100,
  claimInterval: 5_000,
  visibilityTimeout: 30_000,
  publishTimeout: 2_000,
  connectTimeout: 5_000,
  staleConsumerAfter: 3_600_000,
} as const;

const RECONNECT_MAX_DELAY = 1_000;
/** Events per script call in `publishMany`; bigger batches send several calls in one MULTI. */
const PUBLISH_CHUNK = 1_000;

/** Imports ioredis on first use, so apps on other transports never load it. */
const loadIoredis = driverLoader('redis-streams', 'ioredis', () =>
  import('ioredis').then((module) => module.Redis),
);

interface ScriptWithSha extends RedisScript {
  readonly sha: string;
}

const shas = new WeakMap<RedisScript, string>();
function withSha(script: RedisScript): ScriptWithSha {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shas.set(script, sha);
  }
  return { ...script, sha };
}

/** Resolves once `connection` is ready, or rejects after `timeout` ms. */
function whenReady(connection: Redis, timeout: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off('ready', onReady);
      reject(new Error(`no answer within ${timeout} ms (status ${connection.status})`));
    }, timeout);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    connection.once('ready', onReady);
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
  });
}

/** `pending` and `lag` of `group` in an `XINFO GROUPS` reply; `lag` undefined when Redis reports none. */
function groupInfo(reply: unknown, group: string): { pending: number; lag: number | undefined } | undefined {
  if (!Array.isArray(reply)) return undefined;
  for (const entry of reply) {
    if (!Array.isArray(entry)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    if (String(fields.get('name')) !== group) continue;
    const lag = fields.get('lag');
    return {
      pending: Number(fields.get('pending') ?? 0),
      lag: lag === null || lag === undefined ? undefined : Number(lag),
    };
  }
  return undefined;
}

class RedisStreamsTransport implements EventTransport, RedisConsumerHost {
  readonly kind = 'redis-streams';
  readonly keys: RedisKeys;
  readonly settings: RedisConsumerSettings;
  readonly consumerName: string;
  readonly counters: Record<string, number> = {
    reconnects: 0,
    claimed: 0,
    lost: 0,
    dropped: 0,
    trimmed: 0,
    ackFailures: 0,
    errors: 0,
  };
  readonly deadLetters: DeadLetterStore;
  private cmd: Redis | undefined;
  private opening: Promise<Redis> | undefined;
  private readonly consumers = new Set<RedisConsumer>();
  private readonly bindings: GroupBinding[] = [];
  private touched = new Set<string>();
  private trimTimer: NodeJS.Timeout | undefined;
  private trimming = false;
  private closed = false;
  private readonly url: string;
  private readonly maxLen: number;
  private readonly capped: boolean;
  private readonly trimInterval: number;
  private readonly publishTimeout: number;
  private readonly connectTimeout: number;
  private readonly redisOptions: RedisOptions;
  private readonly reporter: ThrottledErrorReporter;
  private readonly rejectPublish = (error: unknown): never => {
    throw this.publishError(error);
  };

  constructor(options: RedisStreamsTransportOptions) {
    const d = REDIS_STREAMS_DEFAULTS;
    this.url = options.url ?? d.url;
    if (!/^rediss?:\/\//.test(this.url)) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid Redis url ${JSON.stringify(this.url)}: use redis://host:port or rediss://host:port`,
      );
    }
    const prefix = options.prefix ?? d.prefix;
    if (prefix.length === 0 || /[{}\s]/.test(prefix)) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `invalid prefix ${JSON.stringify(prefix)}: no braces or spaces`,
      );
    }
    this.keys = new RedisKeys(prefix);
    this.maxLen = wholeNumberOption(options.maxLen, d.maxLen, 'maxLen', 0);
    this.capped = choiceOption(options.trim, d.trim, 'trim', ['safe', 'capped']) === 'capped';
    this.trimInterval = Math.max(1, durationOption(options.trimInterval, d.trimInterval, 'trimInterval'));
    this.publishTimeout = Math.max(
      1,
      durationOption(options.publishTimeout, d.publishTimeout, 'publishTimeout'),
    );
    this.connectTimeout = Math.max(
      1,
      durationOption(options.connectTimeout, d.connectTimeout, 'connectTimeout'),
    );
    const claimInterval = Math.max(
      1,
      durationOption(options.claimInterval, d.claimInterval, 'claimInterval'),
    );
    const visibilityTimeout = durationOption(
      options.visibilityTimeout,
      d.visibilityTimeout,
      'visibilityTimeout',
    );
    if (visibilityTimeout <= claimInterval) {
      throw new EventsError(
        'EVENTS_CONFIG_INVALID',
        `visibilityTimeout (${visibilityTimeout} ms) must be longer than claimInterval (${claimInterval} ms), or running handlers lose their entries to other replicas`,
      );
    }
    this.settings = {
      block: Math.max(1, durationOption(options.block, d.block, 'block')),
      count: wholeNumberOption(options.count, d.count, 'count'),
      claimInterval,
      visibilityTimeout,
      staleConsumerAfter: durationOption(
        options.staleConsumerAfter,
        d.staleConsumerAfter,
        'staleConsumerAfter',
      ),
      housekeepingInterval: Math.max(10 * claimInterval, 30_000),
    };
    this.consumerName =
      options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.redisOptions = options.redisOptions ?? {};
    this.reporter = new ThrottledErrorReporter(options.onError, this.counters);
    this.deadLetters = {
      list: (filter) => this.listDeadLetters(filter),
      get: (id) => this.getDeadLetter(id),
      replay: (id) => this.replayDeadLetter(id),
      discard: (id) => this.discardDeadLetter(id),
    };
  }

  command(): Redis {
    if (this.cmd === undefined) throw this.unavailable('the transport is not connected', false);
    return this.cmd;
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    const cmd = await this.open();
    this.bindings.push(...bindings);
    await this.declare(cmd, bindings);
  }

  publish(envelope: EventEnvelope): Promise<void> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed) return Promise.reject(this.notOpen());
    if (cmd.status !== 'ready') return Promise.reject(this.unavailable(`Redis is ${cmd.status}`, false));
    let text: string;
    try {
      text = encodeEnvelope(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    this.touched.add(envelope.name);
    return cmd.xadd(this.keys.stream(envelope.name), '*', 'e', text).then(noop, this.rejectPublish);
  }

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed) throw this.notOpen();
    if (envelopes.length === 0) return;
    if (cmd.status !== 'ready') throw this.unavailable(`Redis is ${cmd.status}`, false);
    const key = this.keys.stream(envelopes[0]!.name);
    const texts = envelopes.map(encodeEnvelope);
    this.touched.add(envelopes[0]!.name);
    if (texts.length <= PUBLISH_CHUNK) {
      await cmd.eval(publishBatchScript.lua, 1, key, ...texts).catch(this.rejectPublish);
      return;
    }
    const multi = cmd.multi();
    for (let i = 0; i < texts.length; i += PUBLISH_CHUNK) {
      multi.eval(publishBatchScript.lua, 1, key, ...texts.slice(i, i + PUBLISH_CHUNK));
    }
    const results = await multi.exec().catch(this.rejectPublish);
    const failed = results?.find(([error]) => error !== null);
    if (results === null || failed !== undefined) {
      throw this.publishError(failed?.[0] ?? new Error('transaction aborted'));
    }
  }

  async subscribe(
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
  ): Promise<TransportSubscription> {
    await this.open();
    const consumer = new RedisConsumer(this, spec, deliver);
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (error) {
      await consumer.close().catch(() => undefined);
      throw this.unavailable(
        `cannot subscribe group "${spec.group}" to "${spec.event}": ${(error as Error).message}`,
        false,
        error,
      );
    }
    return consumer;
  }

  async openBlockingConnection(name: string): Promise<Redis> {
    const Redis = await loadIoredis();
    const connection = new Redis(this.url, {
      ...this.redisOptions,
      connectionName: name,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: this.connectTimeout,
      retryStrategy: (times) => Math.min(times * 100, RECONNECT_MAX_DELAY),
    });
    connection.on('error', () => undefined);
    try {
      await whenReady(connection, this.connectTimeout);
    } catch (error) {
      connection.disconnect();
      throw error;
    }
    return connection;
  }

  run(script: RedisScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const { sha, lua } = withSha(script);
    const cmd = this.command();
    return cmd.evalsha(sha, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return cmd.eval(lua, keys.length, ...keys, ...args);
    });
  }

  forget(consumer: RedisConsumer): void {
    this.consumers.delete(consumer);
  }

  async health(): Promise<HealthCheckResult> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed) return notOpenHealth(this.closed);
    const started = performance.now();
    try {
      await cmd.ping();
      return {
        ok: true,
        details: {
          status: cmd.status,
          latencyMs: roundLatency(performance.now() - started),
          consumers: this.consumers.size,
        },
      };
    } catch (error) {
      return { ok: false, details: { status: cmd.status, error: (error as Error).message } };
    }
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  /**
   * The group's entries not yet delivered (`lag`) and delivered but not acked (`pending`), on the event's
   * stream and the group's retry stream, plus its retries waiting for their time. `undefined` while
   * Redis does not answer, or when Redis cannot tell the lag (it is unknown after entries were deleted
   * from the middle of the stream).
   */
  async pending({ event, group }: GroupBinding): Promise<number | undefined> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed || cmd.status !== 'ready') return undefined;
    const results = await cmd
      .pipeline()
      .xinfo('GROUPS', this.keys.stream(event))
      .xinfo('GROUPS', this.keys.retry(event, group))
      .zcard(this.keys.delayed(event, group))
      .exec();
    if (results === null) return undefined;
    let total = 0;
    for (const [index, [error, reply]] of results.entries()) {
      if (index === 2) {
        if (error !== null) return undefined;
        total += Number(reply);
        continue;
      }
      if (error !== null) {
        // A retry stream that was never written does not exist yet: nothing waits there.
        if (index === 1 && /no such key/i.test((error as Error).message)) continue;
        return undefined;
      }
      const found = groupInfo(reply, group);
      if (found === undefined) {
        if (index === 1) continue;
        return undefined;
      }
      if (found.lag === undefined) return undefined;
      total += found.pending + found.lag;
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trimTimer !== undefined) clearInterval(this.trimTimer);
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    const cmd = this.cmd ?? (await this.opening?.catch(() => undefined));
    if (cmd !== undefined) {
      await withTimeout(cmd.quit(), this.publishTimeout, 'Redis QUIT').catch(() => undefined);
      cmd.disconnect();
    }
  }

  private open(): Promise<Redis> {
    if (this.closed) return Promise.reject(this.notOpen());
    this.opening ??= this.openCommandConnection().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async openCommandConnection(): Promise<Redis> {
    const Redis = await loadIoredis();
    const cmd = new Redis(this.url, {
      ...this.redisOptions,
      connectionName: `${this.consumerName}:command`,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.publishTimeout,
      connectTimeout: this.connectTimeout,
      retryStrategy: (times) => Math.min(times * 100, RECONNECT_MAX_DELAY),
    });
    cmd.on('error', (error: unknown) => this.report(error));
    try {
      await whenReady(cmd, this.connectTimeout);
    } catch (error) {
      cmd.disconnect();
      throw this.unavailable(
        `cannot reach Redis at ${redactUrl(this.url)}: ${(error as Error).message}`,
        false,
        error,
      );
    }
    cmd.on('ready', () => {
      this.counters.reconnects!++;
      this.declare(cmd, this.bindings).catch((error: unknown) => this.report(error));
      for (const consumer of this.consumers) consumer.commandReady();
    });
    this.cmd = cmd;
    this.trimTimer = setInterval(() => void this.trim(), this.trimInterval);
    this.trimTimer.unref();
    if (this.closed) cmd.disconnect();
    return cmd;
  }

  /** Creates missing groups at the end of their stream, so they receive every event published from now on. */
  private async declare(cmd: Redis, bindings: readonly GroupBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    const pipeline = cmd.pipeline();
    for (const { event, group } of bindings) {
      pipeline.xgroup('CREATE', this.keys.stream(event), group, '$', 'MKSTREAM');
      pipeline.sadd(this.keys.registry(), event);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(
      ([error]) => error !== null && !String(error.message).startsWith('BUSYGROUP'),
    );
    if (failed !== undefined)
      throw this.unavailable(`cannot create consumer groups: ${failed[0]!.message}`, false, failed[0]);
  }

  private async trim(): Promise<void> {
    if (this.trimming || this.touched.size === 0 || this.cmd?.status !== 'ready') return;
    this.trimming = true;
    const events = [...this.touched];
    this.touched = new Set();
    try {
      for (const event of events) {
        const [removed, dropped] = (await this.run(
          trimScript,
          [this.keys.stream(event), this.keys.counters(event)],
          [this.maxLen, this.capped ? 1 : 0, TRIM_SCAN],
        )) as [number, number];
        this.counters.trimmed! += removed;
        this.counters.dropped! += dropped;
      }
    } catch (error) {
      for (const event of events) this.touched.add(event);
      this.report(error);
    } finally {
      this.trimming = false;
    }
  }

  private async listDeadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const cmd = this.command();
    const events = filter.event !== undefined ? [filter.event] : await cmd.smembers(this.keys.registry());
    const letters: DeadLetter[] = [];
    for (const event of events) {
      const records = await cmd.hgetall(this.keys.dead(event));
      for (const [id, record] of Object.entries(records)) {
        const letter = decodeDeadLetterRecord(id, record);
        if (filter.group === undefined || letter.group === filter.group) letters.push(letter);
      }
    }
    return oldestDeadLetters(letters, filter.limit);
  }

  private async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const parts = parseDeadLetterId(id);
    if (parts === undefined) return undefined;
    const record = await this.command().hget(this.keys.dead(parts.event), id);
    return record === null ? undefined : decodeDeadLetterRecord(id, record);
  }

  private async replayDeadLetter(id: string): Promise<void> {
    const parts = parseDeadLetterId(id);
    const found =
      parts !== undefined &&
      (await this.run(
        replayScript,
        [this.keys.dead(parts.event), this.keys.retry(parts.event, parts.group)],
        [id],
      )) === 1;
    if (!found) throw deadLetterNotFound(id);
  }

  private async discardDeadLetter(id: string): Promise<void> {
    const parts = parseDeadLetterId(id);
    const removed = parts !== undefined && (await this.command().hdel(this.keys.dead(parts.event), id)) === 1;
    if (!removed) throw deadLetterNotFound(id);
  }

  private publishError(error: unknown): EventsError {
    if (error instanceof EventsError) return error;
    const message = String((error as Error)?.message);
    if (message.includes('timed out')) return publishTimedOut('Redis', this.publishTimeout, error);
    const notSent = message.includes("isn't writeable");
    return this.unavailable(`Redis refused the event: ${message}`, !notSent, error);
  }

  private unavailable(why: string, maybeStored: boolean, cause?: unknown): EventsError {
    return brokerUnavailable(why, maybeStored, { url: redactUrl(this.url) }, cause);
  }

  private notOpen(): EventsError {
    return transportNotOpen(this.kind, this.closed, { url: redactUrl(this.url) });
  }

  private report(error: unknown): void {
    this.reporter.report(error);
  }
}

function noop(): void {}

/**
 * Creates the `redis-streams` transport. Nothing connects until the bus connects.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createRedisStreamsTransport({ url: 'redis://127.0.0.1:6379', prefix: 'bp:shop', visibilityTimeout: '30s' }),
 * });
 */
export function createRedisStreamsTransport(options: RedisStreamsTransportOptions = {}): EventTransport {
  return new RedisStreamsTransport(options);
}
