/**
 * The stored form of a dead letter, shared by the broker transports (a Redis hash field, a NATS KV
 * value): short keys, the event's original text kept as it was received so an undecodable event
 * can still be inspected and replayed.
 */
import { jsonCodec } from '@blueprint/core/transport';
import { decodeEnvelope, type EventEnvelope } from '../../envelope.js';
import type { DeadLetter, DeadLetterReason } from '../event-transport.js';

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

/** What a dead-letter record holds. */
export interface DeadLetterFields {
  readonly group: string;
  readonly event: string;
  readonly eventId: string;
  /** The event's stored text. */
  readonly text: string;
  readonly reason: DeadLetterReason;
  readonly attempts: number;
}

/** Encodes a dead letter for storage. */
export function encodeDeadLetterRecord(fields: DeadLetterFields): string {
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

/**
 * Encodes a dead letter in at most `room` bytes, for a broker with a message size limit: a record the
 * broker would refuse forever keeps what fits of the event text (it shows as `raw`, and replays as
 * malformed), and its reason says it was cut to fit `limit` (`"the server's max_payload"`).
 */
export function encodeDeadLetterRecordWithin(fields: DeadLetterFields, room: number, limit: string): string {
  const record = encodeDeadLetterRecord(fields);
  if (Buffer.byteLength(record) <= room) return record;
  const { text, reason } = fields;
  const frame = Buffer.byteLength(encodeDeadLetterRecord({ ...fields, text: '' }));
  const kept = Buffer.from(text).subarray(0, Math.max(0, room - frame - 1_024));
  return encodeDeadLetterRecord({
    ...fields,
    text: kept.toString(),
    reason: {
      ...reason,
      message: `${reason.message} (event text cut to ${kept.length} of ${Buffer.byteLength(text)} bytes to fit ${limit})`,
    },
  });
}
