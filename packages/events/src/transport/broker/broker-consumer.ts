/**
 * What the consumers of the broker transports (redis-streams, nats, kafka) have in common: deliveries
 * that settle once, the hand-out of deliveries up to the subscription's concurrency with a backlog for
 * the rest, the settlement writes `close()` waits for, and the dead letter's id and record.
 */
import { decodeEnvelope, type EventEnvelope } from '../../envelope.js';
import {
  type DeadLetterReason,
  type Delivery,
  deadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from '../event-transport.js';
import { encodeDeadLetterRecord, encodeDeadLetterRecordWithin } from './dead-letter-record.js';
import { PendingWrites } from './pending-writes.js';

/** Bytes a dead-letter record leaves free under a broker's size limit, for the broker's own framing. */
const DEAD_LETTER_HEADROOM = 4_096;

/** A broker's limit on the size of a stored message. */
export interface StoredSizeLimit {
  /** The most bytes a stored message may have. */
  readonly bytes: number;
  /** The limit as a cut dead letter names it: `"the server's max_payload"`. */
  readonly name: string;
}

/** The consumer that carries out a delivery's settlement. */
export interface DeliverySettler<D> {
  /** Acks `delivery` (and records it in the inbox, if on). */
  ack(delivery: D): void;
  /** Schedules `delivery` again for its group after `delayMs`. */
  retry(delivery: D, delayMs: number): void;
  /** Stores `delivery` as a dead letter, then removes it. */
  deadLetter(delivery: D, reason: DeadLetterReason): void;
}

/** A stored entry decoded: the envelope, or why it cannot be decoded. */
export interface DecodedEntry {
  readonly envelope: EventEnvelope | undefined;
  readonly malformed: string | undefined;
}

/**
 * Decodes the stored text of a delivered entry: the envelope, or (for the bus to dead-letter) why it
 * cannot be decoded, as `"<what> cannot be decoded: <reason>"`.
 */
export function decodeDelivered(text: string, what: string): DecodedEntry {
  try {
    return { envelope: decodeEnvelope(text), malformed: undefined };
  } catch (error) {
    return { envelope: undefined, malformed: `${what} cannot be decoded: ${(error as Error).message}` };
  }
}

/**
 * A delivery of a broker transport: hands its first settlement to its consumer and ignores any later
 * one (after `close()` abandoned it, say). `D` is the subclass itself.
 */
export abstract class BrokerDelivery<D extends BrokerDelivery<D>> implements Delivery {
  /** Set by the consumer once the delivery is settled or released. */
  settled = false;
  /** When the delivery was handed out or its lease last renewed, in epoch ms. */
  startedAt = 0;
  /** See {@link Delivery.duplicate}; set by the inbox lookup. */
  duplicate = false;
  /** Set when the bus dead-letters it for its signature: its envelope's id is not trusted. */
  unverified = false;
  /** See {@link Delivery.envelope}. */
  readonly envelope: EventEnvelope | undefined;
  /** See {@link Delivery.malformed}. */
  readonly malformed: string | undefined;

  protected constructor(
    private readonly settler: DeliverySettler<D>,
    /** The entry's stored text, as a dead letter keeps it. */
    readonly text: string,
    decoded: DecodedEntry,
    /** See {@link Delivery.attempt}. */
    readonly attempt: number,
  ) {
    this.envelope = decoded.envelope;
    this.malformed = decoded.malformed;
  }

  /** Unique among the deliveries its consumer holds: where the entry is in the broker. */
  abstract get key(): string;

  /** The broker's id of the entry, the event id of a dead letter that could not be decoded. */
  abstract get brokerId(): string;

  /** The event id, or {@link brokerId} for an entry that could not be decoded or verified. */
  get eventId(): string {
    return this.unverified ? this.brokerId : (this.envelope?.id ?? this.brokerId);
  }

  /** See {@link Delivery.ack}. */
  ack(): void {
    if (!this.settled) this.settler.ack(this as unknown as D);
  }

  /** See {@link Delivery.retry}. */
  retry(delayMs: number): void {
    if (!this.settled) this.settler.retry(this as unknown as D, delayMs);
  }

  /** See {@link Delivery.deadLetter}. */
  deadLetter(reason: DeadLetterReason): void {
    if (!this.settled) this.settler.deadLetter(this as unknown as D, reason);
  }
}

/**
 * One subscription of a broker transport. Subclasses fetch entries and {@link offer} their deliveries;
 * this class hands them to the bus up to `spec.concurrency`, keeps the rest in a backlog, and turns
 * each settlement into the broker's write (`writeAck`, `writeRetry`, `writeDeadLetter`).
 */
export abstract class BrokerConsumer<D extends BrokerDelivery<D>>
  implements TransportSubscription, DeliverySettler<D>
{
  /** Deliveries handed to the bus and not settled. */
  protected inFlight = 0;
  /** Deliveries fetched while every slot was busy, oldest first. */
  protected backlog: D[] = [];
  /**
   * Deliveries this consumer holds by key: handed out and unsettled, in the backlog, or waiting for the
   * consumer (an inbox lookup, a settlement write). Their leases are renewed; on close they are released.
   */
  protected readonly held = new Map<string, D>();
  /** Settlement writes not yet finished; `close()` waits for them. */
  protected readonly writes: PendingWrites;
  /** Set once `stop()` was called: no delivery is handed out any more. */
  protected stopped = false;
  /** Set once `close()` was called: settlements are ignored. */
  protected closed = false;
  private draining = false;

  protected constructor(
    protected readonly spec: SubscriptionSpec,
    private readonly deliver: (delivery: Delivery) => void,
    private readonly onClosed: (consumer: BrokerConsumer<D>) => void,
  ) {
    this.writes = new PendingWrites((error) => spec.onError(error));
  }

  /** See {@link TransportSubscription.stop}. */
  abstract stop(): Promise<void>;

  /** Writes what `close()` must write (batched acks), waits for the writes and releases what is held. */
  protected abstract shutdown(): Promise<void>;

  /** Writes the ack of a settled delivery (after the inbox record, when the inbox is on). */
  protected abstract writeAck(delivery: D): void;

  /** Writes a retry of a settled delivery, due in `delayMs` (a whole number, at least 1). */
  protected abstract writeRetry(delivery: D, delayMs: number): void;

  /** Stores a settled delivery as a dead letter, then removes it. */
  protected abstract writeDeadLetter(delivery: D, reason: DeadLetterReason): void;

  /** Called after every settlement: a handler slot is free. */
  protected abstract slotFreed(): void;

  /** See {@link TransportSubscription.close}. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    await this.shutdown();
    this.held.clear();
    this.backlog = [];
    this.onClosed(this);
  }

  ack(delivery: D): void {
    this.settle(delivery);
    if (!this.closed) this.writeAck(delivery);
  }

  retry(delivery: D, delayMs: number): void {
    this.settle(delivery);
    if (!this.closed) this.writeRetry(delivery, Math.max(1, Math.round(delayMs)));
  }

  deadLetter(delivery: D, reason: DeadLetterReason): void {
    if (reason.kind === 'signature') delivery.unverified = true;
    this.settle(delivery);
    if (!this.closed) this.writeDeadLetter(delivery, reason);
  }

  /** Hands a fetched delivery to the bus when a slot is free and nothing waits before it; else queues it. */
  protected offer(delivery: D): void {
    if (!this.stopped && this.inFlight < this.spec.concurrency && this.backlog.length === 0) {
      this.hand(delivery);
    } else {
      this.held.set(delivery.key, delivery);
      this.backlog.push(delivery);
    }
  }

  /**
   * The size limit of the broker's stored messages, which a dead letter is cut to fit (see
   * `encodeDeadLetterRecordWithin`). Default: none.
   */
  protected storedSizeLimit(): StoredSizeLimit | undefined {
    return undefined;
  }

  /** The encoded dead-letter record of an event of this subscription, within {@link storedSizeLimit}. */
  protected deadLetterRecord(
    eventId: string,
    text: string,
    reason: DeadLetterReason,
    attempts: number,
  ): string {
    const { group, event } = this.spec;
    const fields = { group, event, eventId, text, reason, attempts };
    const limit = this.storedSizeLimit();
    return limit === undefined
      ? encodeDeadLetterRecord(fields)
      : encodeDeadLetterRecordWithin(fields, limit.bytes - DEAD_LETTER_HEADROOM, limit.name);
  }

  /** The id of the dead letter of event `eventId` of this subscription (see `deadLetterId`). */
  protected deadLetterIdOf(eventId: string): string {
    return deadLetterId(this.spec.group, this.spec.event, eventId);
  }

  private hand(delivery: D): void {
    this.inFlight++;
    this.held.set(delivery.key, delivery);
    this.deliver(delivery);
  }

  private settle(delivery: D): void {
    delivery.settled = true;
    if (this.held.get(delivery.key) === delivery) this.held.delete(delivery.key);
    this.inFlight--;
    if (this.backlog.length > 0 && !this.stopped) this.drainBacklog();
    this.slotFreed();
  }

  private drainBacklog(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.backlog.length > 0 && this.inFlight < this.spec.concurrency)
        this.hand(this.backlog.shift()!);
    } finally {
      this.draining = false;
    }
  }
}
