/**
 * The stored form of a dead letter, shared by the broker transports (a Redis hash field, a NATS KV
 * value): short keys, the event's original text kept as it was received so an undecodable event
 * can still be inspected and replayed.
 */
import { jsonCodec } from '@blueprint/core';
import { decodeEnvelope, type EventEnvelope } from '../envelope.js';
import type { DeadLetter, DeadLetterReason } from '../transport.js';

/** What a broker stores for one dead letter. */
export interface DeadLetterRecord {
  /** Group. */
  readonly g: string;
  /** Event name. */
  readonly n: string;
  /** Event id. */
  readonly i: string;
  /** The envelope as received (encoded text). */
  readonly e: string;
  /** Why it was dead-lettered. */
  readonly r: DeadLetterReason;
  /** Attempts made. */
  readonly a: number;
  /** When, in epoch ms. */
  readonly t: number;
}

/** Encodes a dead letter for storage. */
export function encodeDeadLetterRecord(fields: {
  group: string;
  event: string;
  eventId: string;
  text: string;
  reason: DeadLetterReason;
  attempts: number;
}): string {
  const record: DeadLetterRecord = {
    g: fields.group,
    n: fields.event,
    i: fields.eventId,
    e: fields.text,
    r: fields.reason,
    a: fields.attempts,
    t: Date.now(),
  };
  return jsonCodec.encode(record);
}

/** Reads a stored dead letter back; an envelope that does not decode is returned as `raw` text. */
export function decodeDeadLetterRecord(id: string, text: string): DeadLetter {
  const r = jsonCodec.decode(text) as DeadLetterRecord;
  let envelope: EventEnvelope | undefined;
  try {
    envelope = decodeEnvelope(r.e);
  } catch {
    envelope = undefined;
  }
  return {
    id,
    group: r.g,
    event: r.n,
    eventId: r.i,
    envelope,
    ...(envelope === undefined ? { raw: r.e } : {}),
    reason: r.r,
    attempts: r.a,
    deadAt: new Date(r.t),
  };
}

/** Dead letters as `DeadLetterStore.list` returns them: oldest first, at most `limit` (default 1,000). */
export function oldestDeadLetters(letters: DeadLetter[], limit = 1000): DeadLetter[] {
  letters.sort((a, b) => a.deadAt.getTime() - b.deadAt.getTime());
  return letters.slice(0, limit);
}
