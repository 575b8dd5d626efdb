/**
 * One subscription on NATS JetStream: pull requests sized to the free handler slots on the events
 * stream and the replay stream, `+ACK` / `-NAK {delay}` / `+TERM` settlements (after the inbox or
 * dead-letter write, retried while the delivery stays held), `+WPI` leases for running handlers, and
 * recovery after reconnects or a lost consumer.
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { decodeEnvelope } from '../../envelope.js';
import { TimerSet } from '../../internal/timer-set.js';
import {
  BrokerConsumer,
  BrokerDelivery,
  type DecodedEntry,
  decodeDelivered,
  type StoredSizeLimit,
} from '../../transport/broker/broker-consumer.js';
import type { DeadLetterReason, Delivery, SubscriptionSpec } from '../../transport/event-transport.js';
import type { NatsNames } from './names.js';
import { PullSource, parseAckReply } from './pull-source.js';

/** Timings a consumer uses, in ms. */
export interface NatsConsumerSettings {
  /** JetStream `ack_wait`: how long a delivery may stay unsettled before it is redelivered. */
  readonly ackWait: number;
  /** JetStream `max_deliver`, or -1. */
  readonly maxDeliver: number;
  /** How long one pull request waits on the server. */
  readonly pullExpires: number;
  /** Most time `close()` waits for pending KV writes. */
  readonly writeTimeout: number;
}

/** What a consumer needs from its transport. */
export interface NatsConsumerHost {
  readonly names: NatsNames;
  readonly settings: NatsConsumerSettings;
  readonly counters: Record<string, number>;
  /** The shared connection. */
  client(): NatsConnection;
  /** Whether the connection is up now. */
  isUp(): boolean;
  /** A new unique inbox subject. */
  createInbox(): string;
  /** Makes sure the streams and the group's two consumers exist; `recover` creates missing ones from the start. */
  ensureGroup(group: string, event: string, recover: boolean): Promise<void>;
  /** Whether the group's inbox holds `key`. */
  inboxHas(group: string, key: string): Promise<boolean>;
  /** Records `key` in the group's inbox. */
  inboxAdd(group: string, key: string): Promise<void>;
  /** Largest message the server accepts, in bytes. */
  maxPayload(): number;
  /** Stores a dead-letter record under `key`. */
  storeDeadLetter(key: string, record: string): Promise<void>;
  /** The text of a stored message, or `undefined` when it is gone. */
  streamMessage(stream: string, seq: number): Promise<string | undefined>;
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
const TERM = encoder.encode('+TERM');
const WPI = encoder.encode('+WPI');
const PENDING_MESSAGES = 'Nats-Pending-Messages';
const RECOVER_MIN_MS = 100;
const RECOVER_MAX_MS = 2_000;
const INBOX_RETRY_MS = 250;
const WRITE_RETRY_MIN_MS = 100;

/** The broker's id of a message that could not be decoded: its stream sequence (`r` for the replay stream). */
function messageId(source: 0 | 1, seq: number): string {
  return `nats-${source === 0 ? '' : 'r'}${seq}`;
}

/** One delivery of a JetStream message. */
class NatsDelivery extends BrokerDelivery<NatsDelivery> {
  constructor(
    consumer: NatsConsumer,
    readonly source: 0 | 1,
    readonly seq: number,
    /** The ack subject; a redelivery of a held message moves it to the newest one. */
    public reply: string,
    text: string,
    decoded: DecodedEntry,
    attempt: number,
  ) {
    super(consumer, text, decoded, attempt);
  }

  get key(): string {
    return `${this.source}:${this.seq}`;
  }

  get brokerId(): string {
    return messageId(this.source, this.seq);
  }
}

/** One subscription on NATS JetStream. */
export class NatsConsumer extends BrokerConsumer<NatsDelivery> {
  private readonly sources: readonly [PullSource, PullSource];
  private readonly threshold: number;
  private accepting = 0;
  private advisories: Subscription[] = [];
  private tick: NodeJS.Timeout | undefined;
  private recovering = false;
  private recoverTimer: NodeJS.Timeout | undefined;
  private readonly lookups = new TimerSet();
  private readonly retries = new TimerSet();

  constructor(
    private readonly host: NatsConsumerHost,
    spec: SubscriptionSpec,
    deliver: (delivery: Delivery) => void,
    onClosed: (consumer: object) => void,
  ) {
    super(spec, deliver, onClosed);
    const { names } = host;
    const durable = names.durable(spec.group, spec.event);
    this.sources = [
      new PullSource(0, names.stream, durable, host.createInbox()),
      new PullSource(1, names.replayStream, durable, host.createInbox()),
    ];
    this.threshold = Math.max(1, Math.floor(spec.concurrency / 4));
  }

  /** Subscribes the pull inboxes (and the max-deliveries advisories) and sends the first pull requests. */
  start(): void {
    const nc = this.host.client();
    for (const source of this.sources) {
      source.sub = nc.subscribe(source.inbox, {
        callback: (error, msg) => this.onMessage(source, error, msg),
      });
      if (this.host.settings.maxDeliver > 0) {
        this.advisories.push(
          nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${source.stream}.${source.durable}`, {
            queue: source.durable,
            callback: (error, msg) => {
              if (error === null) this.onMaxDeliveries(source, msg);
            },
          }),
        );
      }
    }
    const { ackWait, pullExpires } = this.host.settings;
    this.tick = setInterval(
      () => this.onTick(),
      Math.min(1_000, Math.max(50, Math.floor(Math.min(ackWait / 6, pullExpires / 2)))),
    );
    this.tick.unref();
    this.fill();
  }

  /** Called by the transport after a reconnect: the server forgot our pull requests (and may have lost the consumer). */
  reconnected(): void {
    if (this.stopped) return;
    for (const source of this.sources) source.reset();
    this.recover();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const source of this.sources) {
      source.sub?.unsubscribe();
      source.reset();
    }
    for (const advisory of this.advisories) advisory.unsubscribe();
    this.advisories = [];
    if (this.recoverTimer !== undefined) clearTimeout(this.recoverTimer);
    this.lookups.clear();
    const waiting = this.backlog;
    this.backlog = [];
    for (const delivery of waiting) this.release(delivery);
  }

  protected async shutdown(): Promise<void> {
    if (this.tick !== undefined) clearInterval(this.tick);
    this.retries.clear();
    await this.writes.settled(this.host.settings.writeTimeout);
    for (const delivery of this.held.values()) this.release(delivery);
  }

  override retry(delivery: NatsDelivery, delayMs: number): void {
    const { maxDeliver } = this.host.settings;
    if (maxDeliver > 0 && delivery.attempt >= maxDeliver) {
      this.deadLetter(delivery, {
        kind: 'redelivery-limit',
        message: `event "${this.spec.event}" ${delivery.eventId} failed on delivery ${delivery.attempt} to group "${this.spec.group}", the consumer's maxDeliver; set maxDeliver above the handler's maxAttempts to let the bus decide`,
      });
      return;
    }
    super.retry(delivery, delayMs);
  }

  protected writeAck(delivery: NatsDelivery): void {
    if (this.spec.inbox && delivery.envelope !== undefined && !delivery.duplicate) {
      const key = this.host.names.inboxKey(this.spec.event, delivery.envelope.id);
      this.afterWrite(delivery, () => this.host.inboxAdd(this.spec.group, key), ACK, 'inboxWriteFailures');
    } else this.respond(delivery, ACK);
  }

  protected writeRetry(delivery: NatsDelivery, delayMs: number): void {
    this.respond(delivery, encoder.encode(`-NAK {"delay":${delayMs * 1_000_000}}`));
  }

  protected writeDeadLetter(delivery: NatsDelivery, reason: DeadLetterReason): void {
    this.afterWrite(
      delivery,
      () => this.storeDeadLetter(delivery.eventId, delivery.text, reason, delivery.attempt),
      TERM,
      'deadLetterFailures',
    );
  }

  protected slotFreed(): void {
    this.fill();
  }

  /**
   * Writes what a settlement needs (inbox record, dead letter), then sends `payload` (ack, term). A failed
   * write is tried again (the server may be restarting) while the delivery stays held: its lease is
   * renewed and a redelivery of it is absorbed, so the handler does not run again meanwhile. Given up on
   * `close()`: the event then comes back after `ackWait`.
   */
  private afterWrite(
    delivery: NatsDelivery,
    write: () => Promise<void>,
    payload: Uint8Array,
    failures: string,
  ): void {
    this.held.set(delivery.key, delivery);
    let delay = WRITE_RETRY_MIN_MS;
    const attempt = () => {
      const task = write().then(
        () => {
          if (this.held.get(delivery.key) === delivery) this.held.delete(delivery.key);
          this.respond(delivery, payload);
        },
        (error: unknown) => {
          this.host.counters[failures]!++;
          if (this.closed) {
            if (this.held.get(delivery.key) === delivery) this.held.delete(delivery.key);
            throw error;
          }
          if (delay === WRITE_RETRY_MIN_MS) this.spec.onError(error);
          this.retries.after(delay, attempt);
          delay = Math.min(delay * 2, RECOVER_MAX_MS);
        },
      );
      this.writes.add(task);
    };
    attempt();
  }

  private storeDeadLetter(
    eventId: string,
    text: string,
    reason: DeadLetterReason,
    attempts: number,
  ): Promise<void> {
    const { group, event } = this.spec;
    const record = this.deadLetterRecord(eventId, text, reason, attempts);
    return this.host.storeDeadLetter(this.host.names.deadKey(group, event, eventId), record);
  }

  protected override storedSizeLimit(): StoredSizeLimit {
    return { bytes: this.host.maxPayload(), name: "the server's max_payload" };
  }

  private respond(delivery: NatsDelivery, payload: Uint8Array): void {
    this.publish(delivery.reply, payload);
  }

  private publish(reply: string, payload: Uint8Array): void {
    try {
      this.host.client().publish(reply, payload);
    } catch (error) {
      this.host.counters.ackFailures!++;
      this.spec.onError(error);
    }
  }

  /** Gives a delivery back to the server for any replica, at once (shutdown, not a retry). */
  private release(delivery: NatsDelivery): void {
    if (delivery.settled) return;
    delivery.settled = true;
    this.respond(delivery, NAK);
  }

  private onMessage(source: PullSource, error: Error | null, msg: Msg): void {
    if (error !== null) {
      this.spec.onError(error);
      return;
    }
    if (msg.subject === source.inbox) {
      this.onStatus(source, msg);
      return;
    }
    source.received();
    const info = parseAckReply(msg.reply ?? '');
    if (info === undefined) {
      this.spec.onError(new Error(`a JetStream message on ${msg.subject} has no ack subject; ignored`));
      return;
    }
    const known = this.held.get(`${source.index}:${info.seq}`);
    if (known !== undefined) {
      // Redelivered while we still hold it (its lease ran out): keep one copy, settle it on the newest subject.
      this.host.counters.redeliveredHeld!++;
      known.reply = msg.reply!;
      return;
    }
    if (this.stopped) {
      this.publish(msg.reply!, NAK);
      return;
    }
    const text = msg.string();
    const decoded = decodeDelivered(text, `message ${info.seq} of stream ${source.stream}`);
    const delivery = new NatsDelivery(
      this,
      source.index,
      info.seq,
      msg.reply!,
      text,
      decoded,
      info.deliveries,
    );
    if (this.spec.inbox && decoded.envelope !== undefined) {
      this.accepting++;
      delivery.startedAt = Date.now();
      this.held.set(delivery.key, delivery);
      this.lookUp(delivery, decoded.envelope.id);
    } else this.place(delivery);
  }

  /**
   * Asks the inbox whether the group completed this event. Until it answers the delivery is held (its
   * lease renewed), never handed out unchecked: that could run a completed event's side effect again.
   */
  private lookUp(delivery: NatsDelivery, eventId: string): void {
    this.host.inboxHas(this.spec.group, this.host.names.inboxKey(this.spec.event, eventId)).then(
      (found) => {
        this.accepting--;
        this.held.delete(delivery.key);
        delivery.duplicate = found;
        this.place(delivery);
      },
      (error: unknown) => {
        if (this.stopped) {
          this.accepting--;
          this.held.delete(delivery.key);
          this.release(delivery);
          return;
        }
        this.host.counters.inboxReadFailures!++;
        this.spec.onError(error);
        this.lookups.after(INBOX_RETRY_MS, () => this.lookUp(delivery, eventId));
      },
    );
  }

  private onStatus(source: PullSource, msg: Msg): void {
    const headers = msg.headers;
    const code = headers?.code ?? 0;
    if (code === 100) return;
    const description = (headers?.description ?? '').toLowerCase();
    const left = Number(headers?.get(PENDING_MESSAGES) || Number.NaN);
    if (code === 503 || (code === 409 && description.includes('consumer deleted'))) {
      this.host.counters.pullResets!++;
      source.reset();
      this.recover();
      return;
    }
    source.ended(left, Number.isNaN(left));
    if (code === 404 || code === 408 || code === 409) this.fill();
    else {
      // A request the server refuses (400...): report it; the next tick pulls again, not a tight loop.
      this.spec.onError(
        new Error(`unexpected JetStream status ${code} ${description} for consumer ${source.durable}`),
      );
    }
  }

  private place(delivery: NatsDelivery): void {
    if (this.stopped) {
      this.release(delivery);
      return;
    }
    delivery.startedAt = Date.now();
    this.offer(delivery);
  }

  /** Sends pull requests for the free handler slots. */
  private fill(): void {
    if (this.stopped || this.recovering || !this.host.isUp()) return;
    const [main, replay] = this.sources;
    const free =
      this.spec.concurrency - this.inFlight - this.accepting - this.backlog.length - main.outstanding;
    if (!main.broken && free > 0 && (main.outstanding === 0 || free >= this.threshold)) this.pull(main, free);
    // Replays are rare: one standing request, served from the backlog when every slot is busy.
    if (!replay.broken && replay.outstanding === 0) this.pull(replay, 1);
  }

  private pull(source: PullSource, batch: number): void {
    const expires = this.host.settings.pullExpires;
    try {
      this.host
        .client()
        .publish(source.next, encoder.encode(`{"batch":${batch},"expires":${expires * 1_000_000}}`), {
          reply: source.inbox,
        });
      source.opened(batch, Date.now() + expires + Math.max(1_000, expires / 2));
    } catch (error) {
      this.spec.onError(error);
    }
  }

  private onTick(): void {
    const now = Date.now();
    for (const source of this.sources) source.expire(now);
    const limit = now - this.host.settings.ackWait / 3;
    for (const delivery of this.held.values()) {
      if (delivery.startedAt < limit) {
        delivery.startedAt = now;
        this.host.counters.leaseRefreshes!++;
        this.respond(delivery, WPI);
      }
    }
    this.fill();
  }

  /** Makes sure the consumers exist again (creating them from the start of the stream), then pulls. */
  private recover(): void {
    for (const source of this.sources) source.broken = true;
    if (this.recovering || this.stopped) return;
    this.recovering = true;
    let delay = RECOVER_MIN_MS;
    const attempt = () => {
      this.recoverTimer = undefined;
      if (this.stopped) return;
      this.host.ensureGroup(this.spec.group, this.spec.event, true).then(
        () => {
          this.host.counters.recoveries!++;
          this.recovering = false;
          for (const source of this.sources) {
            source.broken = false;
            source.reset();
          }
          this.fill();
        },
        (error: unknown) => {
          if (this.stopped) return;
          if (this.host.isUp()) this.spec.onError(error);
          this.recoverTimer = setTimeout(attempt, delay);
          this.recoverTimer.unref();
          delay = Math.min(delay * 2, RECOVER_MAX_MS);
        },
      );
    };
    attempt();
  }

  /** The server gave up on a delivery after `max_deliver` (a consumer crashed on its last one): dead-letter it. */
  private onMaxDeliveries(source: PullSource, msg: Msg): void {
    let advisory: { stream_seq?: unknown; deliveries?: unknown };
    try {
      advisory = JSON.parse(msg.string()) as typeof advisory;
    } catch {
      return;
    }
    const seq = Number(advisory.stream_seq);
    const deliveries = Number(advisory.deliveries) || this.host.settings.maxDeliver;
    if (!Number.isSafeInteger(seq)) return;
    this.host.counters.maxDeliveries!++;
    const task = this.host.streamMessage(source.stream, seq).then((text) => {
      if (text === undefined) return;
      let eventId = messageId(source.index, seq);
      try {
        eventId = decodeEnvelope(text).id;
      } catch {
        // Undecodable: keyed by its stream sequence.
      }
      return this.storeDeadLetter(
        eventId,
        text,
        {
          kind: 'redelivery-limit',
          message: `event "${this.spec.event}" ${eventId} was delivered ${deliveries} times to group "${this.spec.group}" without being settled (maxDeliver ${this.host.settings.maxDeliver}); a consumer probably crashed while handling it`,
        },
        deliveries,
      );
    });
    this.writes.add(task);
  }
}
