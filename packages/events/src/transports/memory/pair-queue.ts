/**
 * A FIFO of (envelope, attempt) pairs on a growable ring buffer: no allocation per event.
 */
import type { EventEnvelope } from '../../envelope.js';

/** A FIFO of envelopes with their attempt numbers. */
export class PairQueue {
  private slots: unknown[] = new Array(64);
  private head = 0;
  private count = 0;
  /** The attempt of the envelope last returned by {@link shift}. */
  attempt = 0;

  /** Number of queued envelopes. */
  get length(): number {
    return this.count;
  }

  /** Adds an envelope at the end. */
  push(envelope: EventEnvelope, attempt: number): void {
    const capacity = this.slots.length >> 1;
    if (this.count === capacity) this.grow();
    const index = ((this.head + this.count) & ((this.slots.length >> 1) - 1)) << 1;
    this.slots[index] = envelope;
    this.slots[index + 1] = attempt;
    this.count++;
  }

  /** Removes and returns the first envelope (its attempt goes to {@link attempt}), or undefined. */
  shift(): EventEnvelope | undefined {
    if (this.count === 0) return undefined;
    const index = this.head << 1;
    const envelope = this.slots[index] as EventEnvelope;
    this.attempt = this.slots[index + 1] as number;
    this.slots[index] = undefined;
    this.head = (this.head + 1) & ((this.slots.length >> 1) - 1);
    this.count--;
    return envelope;
  }

  private grow(): void {
    const capacity = this.slots.length >> 1;
    const next: unknown[] = new Array(this.slots.length * 2);
    for (let i = 0; i < this.count; i++) {
      const from = ((this.head + i) & (capacity - 1)) << 1;
      next[i << 1] = this.slots[from];
      next[(i << 1) + 1] = this.slots[from + 1];
    }
    this.slots = next;
    this.head = 0;
  }
}
