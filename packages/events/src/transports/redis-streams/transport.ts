/**
 * The `redis-streams` transport: one stream per event name, one consumer group per subscribing service.
 *
 * - Publishing: `XADD` on a command connection with a `commandTimeout`, no retries per request and no
 *   offline queue, so `publish` rejects with a coded error within `publishTimeout` when Redis is down and
 *   never resolves for an event Redis did not store. `publishMany` appends a batch with one script call
 *   (atomic; batches over 1,000 events send several calls in one `MULTI`). The `publish` calls of one
 *   tick are sent together (per stream: one `XADD`, or one script call per 1,000 events); each resolves
 *   with the reply of the command that carried its event.
 * - Trimming: every `trimInterval`, streams that grew are trimmed to about `maxLen` entries by `MINID`,
 *   never past the oldest pending entry or past what a group has not been given yet (`trim: "capped"`
 *   trims to `maxLen` anyway and counts what it dropped).
 * - Consuming: see `consumer.ts` (blocking reads, batched acks, claim loop, pending re-read after
 *   reconnects, retries through a delayed set and a per-group retry stream, dead letters in a hash).
 *
 * `ioredis` is an optional peer dependency, imported only when this transport connects.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  classifyRedisError,
  closeClient,
  connectionOptions,
  type LuaScript,
  loadIoRedis,
  type RedisConnectionSettings,
} from '@blueprint/core/redis';
import type { Redis, RedisOptions } from 'ioredis';
import { type EventEnvelope, encodeEnvelope } from '../../envelope.js';
import { EventsDriverMissingError } from '../../errors.js';
import { type PublishFailure, redactUrl } from '../../transport/broker/broker-errors.js';
import type { BrokerHealthProbe } from '../../transport/broker/broker-health.js';
import { BrokerTransport } from '../../transport/broker/broker-transport.js';
import type { DeadLetterBackend, StoredDeadLetter } from '../../transport/broker/dead-letter-store.js';
import type { Delivery, GroupBinding, SubscriptionSpec } from '../../transport/event-transport.js';
import { RedisConsumer } from './consumer.js';
import type { RedisConsumerHost, RedisConsumerSettings } from './host.js';
import { RedisKeys } from './keys.js';
import type { RedisStreamsSettings, RedisStreamsTransportContext } from './options.js';
import { groupInfo } from './replies.js';
import { PUBLISH_BATCH_LUA, replayScript, TRIM_SCAN, trimScript } from './scripts.js';

/** Events per script call in `publishMany`; bigger batches send several calls in one MULTI. */
const PUBLISH_CHUNK = 1_000;

/** Resolves once `connection` is ready, or rejects after `timeout` ms. */
function readyWithin(connection: Redis, timeout: number): Promise<void> {
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

/** The `redis-streams` transport. */
export class RedisStreamsTransport
  extends BrokerTransport<Redis, RedisConsumer>
  implements RedisConsumerHost
{
  readonly keys: RedisKeys;
  readonly settings: RedisConsumerSettings;
  readonly consumerName: string;
  private readonly bindings: GroupBinding[] = [];
  /** Publishes of this tick not sent yet, per stream key: encoded texts, and resolve/reject pairs. */
  private batches = new Map<string, { texts: string[]; settles: ((error?: unknown) => void)[] }>();
  private flushing = false;
  private touched = new Set<string>();
  private trimTimer: NodeJS.Timeout | undefined;
  private trimming = false;
  private readonly url: string;
  private readonly maxLen: number;
  private readonly capped: boolean;
  private readonly trimInterval: number;
  private readonly connectTimeout: number;
  private readonly redisOptions: RedisOptions;

  constructor(options: RedisStreamsSettings, context: RedisStreamsTransportContext) {
    const url = redactUrl(options.url);
    super({
      type: 'redis-streams',
      messagingSystem: 'redis',
      broker: 'Redis',
      describe: `Redis at ${url}`,
      where: { url },
      publishTimeout: options.publishTimeout,
      connectTimeout: options.connectTimeout,
      healthTimeout: options.publishTimeout,
      counters: { reconnects: 0, claimed: 0, lost: 0, dropped: 0, trimmed: 0, ackFailures: 0, errors: 0 },
      onError: context.onError,
    });
    this.url = options.url;
    this.keys = new RedisKeys(
      options.prefix ?? (context.appName === undefined ? 'bp' : `bp:${context.appName}`),
    );
    this.maxLen = options.maxLen;
    this.capped = options.trim === 'capped';
    this.trimInterval = options.trimInterval;
    this.connectTimeout = options.connectTimeout;
    this.settings = {
      block: options.block,
      count: options.count,
      claimInterval: options.claimInterval,
      visibilityTimeout: options.visibilityTimeout,
      staleConsumerAfter: options.staleConsumerAfter,
      housekeepingInterval: Math.max(10 * options.claimInterval, 30_000),
    };
    this.consumerName =
      options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.redisOptions = context.redisOptions ?? {};
  }

  command(): Redis {
    return this.connection.get();
  }

  async connect(bindings: readonly GroupBinding[]): Promise<void> {
    const cmd = await this.connection.open();
    this.bindings.push(...bindings);
    await this.declare(cmd, bindings);
  }

  publish(envelope: EventEnvelope): Promise<void> {
    const cmd = this.connection.usable;
    if (cmd === undefined) return Promise.reject(this.connection.notOpen());
    if (cmd.status !== 'ready')
      return Promise.reject(this.errors.unavailable(`Redis is ${cmd.status}`, false));
    let text: string;
    try {
      text = encodeEnvelope(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    this.touched.add(envelope.name);
    return new Promise<void>((resolve, reject) => {
      const key = this.keys.stream(envelope.name);
      let batch = this.batches.get(key);
      if (batch === undefined) {
        batch = { texts: [], settles: [] };
        this.batches.set(key, batch);
      }
      batch.texts.push(text);
      batch.settles.push(resolve as () => void, reject);
      if (!this.flushing) {
        this.flushing = true;
        process.nextTick(this.flush);
      }
    });
  }

  /**
   * Sends the publishes of one tick: per stream, one `XADD` for a single event, else one script call per
   * {@link PUBLISH_CHUNK} events. Each publish settles with the reply of the command that carried it.
   */
  private readonly flush = (): void => {
    this.flushing = false;
    const batches = this.batches;
    this.batches = new Map();
    const cmd = this.connection.usable;
    for (const [key, { texts, settles }] of batches) {
      for (let i = 0; i < texts.length; i += PUBLISH_CHUNK) {
        const chunk = texts.length === 1 ? texts : texts.slice(i, i + PUBLISH_CHUNK);
        const from = i * 2;
        const to = from + chunk.length * 2;
        const sent: Promise<unknown> =
          cmd === undefined
            ? Promise.reject(this.connection.notOpen())
            : chunk.length === 1
              ? cmd.xadd(key, '*', 'e', chunk[0]!)
              : cmd.eval(PUBLISH_BATCH_LUA, 1, key, ...chunk);
        sent.then(
          () => {
            for (let j = from; j < to; j += 2) (settles[j] as () => void)();
          },
          (error: unknown) => {
            let coded: unknown;
            try {
              coded = cmd === undefined ? error : this.rejectPublish(error);
            } catch (thrown) {
              coded = thrown;
            }
            for (let j = from; j < to; j += 2) (settles[j + 1] as (error: unknown) => void)(coded);
          },
        );
      }
    }
  };

  async publishMany(envelopes: readonly EventEnvelope[]): Promise<void> {
    const cmd = this.connection.usable;
    if (cmd === undefined) throw this.connection.notOpen();
    if (envelopes.length === 0) return;
    if (cmd.status !== 'ready') throw this.errors.unavailable(`Redis is ${cmd.status}`, false);
    const key = this.keys.stream(envelopes[0]!.name);
    const texts = envelopes.map(encodeEnvelope);
    this.touched.add(envelopes[0]!.name);
    if (texts.length <= PUBLISH_CHUNK) {
      await cmd.eval(PUBLISH_BATCH_LUA, 1, key, ...texts).catch(this.rejectPublish);
      return;
    }
    const multi = cmd.multi();
    for (let i = 0; i < texts.length; i += PUBLISH_CHUNK) {
      multi.eval(PUBLISH_BATCH_LUA, 1, key, ...texts.slice(i, i + PUBLISH_CHUNK));
    }
    const results = await multi.exec().catch(this.rejectPublish);
    const failed = results?.find(([error]) => error !== null);
    if (results === null || failed !== undefined) {
      throw this.errors.publish(failed?.[0] ?? new Error('transaction aborted'));
    }
  }

  async openBlockingConnection(name: string): Promise<Redis> {
    const { Redis } = await loadIoRedis('the redis-streams event transport', EventsDriverMissingError);
    const connection = new Redis(this.url, {
      ...this.redisOptions,
      ...connectionOptions(this.connectionSettings()),
      connectionName: name,
    });
    connection.on('error', () => undefined);
    try {
      await readyWithin(connection, this.connectTimeout);
    } catch (error) {
      connection.disconnect();
      throw error;
    }
    return connection;
  }

  run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return script.run(this.command(), keys, args);
  }

  /**
   * The group's entries not yet delivered (`lag`) and delivered but not acked (`pending`), on the event's
   * stream and the group's retry stream, plus its retries waiting for their time. `undefined` while
   * Redis does not answer, or when Redis cannot tell the lag (it is unknown after entries were deleted
   * from the middle of the stream).
   */
  async pending({ event, group }: GroupBinding): Promise<number | undefined> {
    const cmd = this.connection.usable;
    if (cmd === undefined || cmd.status !== 'ready') return undefined;
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

  protected async openClient(): Promise<Redis> {
    const { Redis } = await loadIoRedis('the redis-streams event transport', EventsDriverMissingError);
    const cmd = new Redis(this.url, {
      ...this.redisOptions,
      ...connectionOptions(this.connectionSettings(), true),
      connectionName: `${this.consumerName}:command`,
    });
    cmd.on('error', (error: unknown) => this.report(error));
    try {
      await readyWithin(cmd, this.connectTimeout);
    } catch (error) {
      cmd.disconnect();
      throw error;
    }
    cmd.on('ready', () => {
      this.counters.reconnects!++;
      this.declare(cmd, this.bindings).catch((error: unknown) => this.report(error));
      for (const consumer of this.consumers) consumer.commandReady();
    });
    this.trimTimer = setInterval(() => void this.trim(), this.trimInterval);
    this.trimTimer.unref();
    return cmd;
  }

  protected async closeClient(cmd: Redis): Promise<void> {
    this.onClose();
    await closeClient(cmd);
  }

  protected override onClose(): void {
    if (this.trimTimer !== undefined) clearInterval(this.trimTimer);
  }

  protected classifyPublishError(error: unknown): PublishFailure {
    if (classifyRedisError(error).reason === 'timeout') return 'timeout';
    // Only "isn't writeable" says the command never left: a connection that broke after sending may have stored it.
    return String((error as Error)?.message).includes("isn't writeable") ? 'not-sent' : 'maybe-sent';
  }

  protected createConsumer(spec: SubscriptionSpec, deliver: (delivery: Delivery) => void): RedisConsumer {
    return new RedisConsumer(this, spec, deliver, this.forget);
  }

  protected startConsumer(consumer: RedisConsumer): Promise<void> {
    return consumer.start();
  }

  protected healthProbe(cmd: Redis): BrokerHealthProbe {
    return { details: { status: cmd.status }, ping: () => cmd.ping() };
  }

  protected deadLetterBackend(): DeadLetterBackend<StoredDeadLetter> {
    const { keys } = this;
    return {
      scan: async (filter) => {
        const cmd = this.command();
        const events = filter.event !== undefined ? [filter.event] : await cmd.smembers(keys.registry());
        const records: StoredDeadLetter[] = [];
        for (const event of events) {
          for (const [id, text] of Object.entries(await cmd.hgetall(keys.dead(event))))
            records.push({ id, text });
        }
        return records;
      },
      read: async ({ id, event }) => {
        const text = await this.command().hget(keys.dead(event), id);
        return text === null ? undefined : { id, text };
      },
      replay: async (_record, { id, event, group }) =>
        (await this.run(replayScript, [keys.dead(event), keys.retry(event, group)], [id])) === 1,
      remove: async (_record, { id, event }) => (await this.command().hdel(keys.dead(event), id)) === 1,
    };
  }

  private connectionSettings(): RedisConnectionSettings {
    return {
      url: this.url,
      commandTimeout: this.publishTimeout,
      connectTimeout: this.connectTimeout,
      maxRetriesPerRequest: 0,
    };
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
    if (failed !== undefined) {
      throw this.errors.unavailable(`cannot create consumer groups: ${failed[0]!.message}`, false, failed[0]);
    }
  }

  private async trim(): Promise<void> {
    if (this.trimming || this.touched.size === 0 || this.connection.usable?.status !== 'ready') return;
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
}
