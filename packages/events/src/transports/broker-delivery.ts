/** What the deliveries of the broker transports (redis-streams, nats) have in common. */
import { decodeEnvelope, type EventEnvelope } from '../envelope.js';
import type { DeadLetterReason, Delivery } from '../transport.js';

/** The consumer that carries out a delivery's settlement. */
export interface DeliverySettler<D> {
  /** Acks `delivery` (and records it in the inbox, if on). */
  ack(delivery: D): void;
  /** Schedules `delivery` again for its group after `delayMs`. */
  retry(delivery: D, delayMs: number): void;
  /** Stores `delivery` as a dead letter, then removes it. */
  deadLetter(delivery: D, reason: DeadLetterReason): void;
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
  /** See {@link Delivery.envelope}. */
  abstract readonly envelope: EventEnvelope | undefined;
  /** See {@link Delivery.malformed}. */
  abstract readonly malformed: string | undefined;
  /** See {@link Delivery.attempt}. */
  abstract readonly attempt: number;
  /** See {@link Delivery.duplicate}. */
  abstract readonly duplicate: boolean;

  protected constructor(private readonly settler: DeliverySettler<D>) {}

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
 * Decodes the stored text of a delivered entry: the envelope, or (for the bus to dead-letter) why it
 * cannot be decoded, as `"<what> cannot be decoded: <reason>"`.
 */
export function decodeDelivered(
  text: string,
  what: string,
): { envelope: EventEnvelope | undefined; malformed: string | undefined } {
  try {
    return { envelope: decodeEnvelope(text), malformed: undefined };
  } catch (error) {
    return { envelope: undefined, malformed: `${what} cannot be decoded: ${(error as Error).message}` };
  }
}
