/**
 * What the `nats` transport keeps on JetStream, made when missing (see `names.ts` for the names): the
 * events stream and the replay stream, a durable pull consumer per group and event on each, and the KV
 * buckets of dead letters and inboxes. After a reconnect everything is checked again, in case the
 * server lost it.
 */
import type { ConsumerConfig, JetStreamClient, JetStreamManager, KV, StreamConfig, StreamInfo } from 'nats';
import { EventsConfigError } from '../../errors.js';
import type { NatsNames } from './names.js';

/** The `nats` client module. */
export type NatsModule = typeof import('nats');

/** What the JetStream objects are made with (durations in ms). */
export interface JetStreamSettings {
  readonly storage: 'file' | 'memory';
  readonly replicas: number;
  readonly retention: 'interest' | 'limits';
  readonly maxAge: number;
  readonly maxBytes: number;
  readonly duplicateWindow: number;
  readonly ackWait: number;
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly publishTimeout: number;
  readonly inboxTtl?: number | undefined;
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** Milliseconds as the nanoseconds JetStream configurations take. */
export function nanos(millis: number): number {
  return Math.round(millis) * 1_000_000;
}

/** The JetStream API error code of `error`, if it is one. */
export function apiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | null)?.api_error?.err_code;
}

/** The nats.js error code of `error` (`"TIMEOUT"`, `"503"`...), or `""`. */
export function errorCode(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}

/** The streams, consumers and KV buckets of one transport. */
export class JetStream {
  private readonly buckets = new Map<string, Promise<KV>>();
  private readonly inboxTtls = new Map<string, number>();
  private streamsReady: Promise<void> | undefined;
  private streamsSettled = false;

  constructor(
    private readonly nats: NatsModule,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
    private readonly names: NatsNames,
    private readonly settings: JetStreamSettings,
  ) {}

  /** After a reconnect: check the streams and buckets again on next use. */
  forget(): void {
    this.streamsReady = undefined;
    this.buckets.clear();
  }

  /** Creates the events and replay streams when missing; `force` checks again even when done before. */
  ensureStreams(force = false): Promise<void> {
    if (force && this.streamsSettled) this.streamsReady = undefined;
    if (this.streamsReady === undefined) {
      this.streamsSettled = false;
      this.streamsReady = this.createStreams().then(
        () => {
          this.streamsSettled = true;
        },
        (error: unknown) => {
          this.streamsReady = undefined;
          throw error;
        },
      );
    }
    return this.streamsReady;
  }

  /** Makes sure the streams and the group's two consumers exist; `recover` creates missing ones from the start. */
  async ensureGroup(group: string, event: string, recover: boolean): Promise<void> {
    const { names } = this;
    if (recover) await this.ensureStreams(true);
    const durable = names.durable(group, event);
    await this.ensureConsumer(names.stream, durable, names.subject(event), recover ? 'all' : 'new');
    await this.ensureConsumer(names.replayStream, durable, names.replaySubject(group, event), 'all');
  }

  /** A KV bucket, created when missing. */
  bucket(name: string, ttl?: number): Promise<KV> {
    let kv = this.buckets.get(name);
    if (kv === undefined) {
      kv = this.js.views
        .kv(name, {
          history: 1,
          storage: this.storageType(),
          replicas: this.settings.replicas,
          timeout: this.settings.publishTimeout,
          ...(ttl === undefined ? {} : { ttl }),
        })
        .catch((error: unknown) => {
          this.buckets.delete(name);
          throw error;
        });
      this.buckets.set(name, kv);
    }
    return kv;
  }

  /** Runs `fn` on a bucket; when the bucket vanished (a server that lost its data), creates it and runs `fn` again. */
  async withBucket<T>(name: string, fn: (kv: KV) => Promise<T>): Promise<T> {
    const kv = await this.bucket(name, this.inboxTtls.get(name));
    try {
      return await fn(kv);
    } catch (error) {
      if (errorCode(error) !== '503' && apiErrorCode(error) !== STREAM_NOT_FOUND) throw error;
      this.buckets.delete(name);
      return fn(await this.bucket(name, this.inboxTtls.get(name)));
    }
  }

  /** Opens a group's inbox, raising its TTL when an existing bucket keeps ids for less long. */
  async openInbox(group: string, retention: number): Promise<void> {
    const { maxAge, inboxTtl } = this.settings;
    const name = this.names.inboxBucket(group);
    const ttl = inboxTtl ?? (maxAge === 0 ? 0 : Math.max(retention, maxAge));
    this.inboxTtls.set(name, Math.max(ttl, this.inboxTtls.get(name) ?? 0));
    const kv = await this.bucket(name, ttl);
    const status = await kv.status();
    if (status.ttl !== 0 && (ttl === 0 || status.ttl < ttl)) {
      await this.jsm.streams.update(status.streamInfo.config.name, { max_age: nanos(ttl) });
    }
  }

  private storageType() {
    const { StorageType } = this.nats;
    return this.settings.storage === 'file' ? StorageType.File : StorageType.Memory;
  }

  private async createStreams(): Promise<void> {
    const { RetentionPolicy, DiscardPolicy } = this.nats;
    const { names, settings } = this;
    const common: Partial<StreamConfig> = {
      storage: this.storageType(),
      num_replicas: settings.replicas,
      max_age: nanos(settings.maxAge),
      duplicate_window: nanos(settings.duplicateWindow),
    };
    await this.ensureStream({
      ...common,
      name: names.stream,
      subjects: [`${names.stream}.>`],
      retention: settings.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
      max_bytes: settings.maxBytes,
      discard: DiscardPolicy.New,
    });
    await this.ensureStream({
      ...common,
      name: names.replayStream,
      subjects: [`${names.replayStream}.>`],
      retention: RetentionPolicy.Workqueue,
    });
  }

  private async ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    const jsm = this.jsm;
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(config.name);
    } catch (error) {
      if (apiErrorCode(error) !== STREAM_NOT_FOUND) throw error;
      try {
        await jsm.streams.add(config);
        return;
      } catch (addError) {
        // Another process created it first.
        info = await jsm.streams.info(config.name).catch(() => {
          throw addError;
        });
      }
    }
    if (info.config.retention !== config.retention) {
      throw new EventsConfigError(
        `JetStream stream "${config.name}" exists with retention "${info.config.retention}", but this transport needs "${config.retention}"; set retention to match, or delete the stream (nats stream rm ${config.name})`,
      );
    }
  }

  private async ensureConsumer(
    stream: string,
    durable: string,
    filter: string,
    deliver: 'new' | 'all',
  ): Promise<void> {
    const { AckPolicy, DeliverPolicy, ReplayPolicy } = this.nats;
    const { ackWait, maxDeliver, maxAckPending } = this.settings;
    const wanted: Partial<ConsumerConfig> = {
      ack_wait: nanos(ackWait),
      max_deliver: maxDeliver,
      max_ack_pending: maxAckPending,
    };
    try {
      const { config } = await this.jsm.consumers.info(stream, durable);
      if (
        config.ack_wait !== wanted.ack_wait ||
        config.max_deliver !== wanted.max_deliver ||
        config.max_ack_pending !== wanted.max_ack_pending
      ) {
        await this.jsm.consumers.update(stream, durable, wanted);
      }
    } catch (error) {
      if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw error;
      await this.jsm.consumers.add(stream, {
        ...wanted,
        durable_name: durable,
        filter_subject: filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: deliver === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
      });
    }
  }
}
