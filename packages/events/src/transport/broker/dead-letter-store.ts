/**
 * The dead-letter store of a broker transport: listing, lookup, replay and discard over the records a
 * broker keeps (a Redis hash, a NATS KV bucket, a Kafka topic...). The broker only reads, replays and
 * removes stored records; ids, filters, ordering and "not found" are handled here, the same for all.
 */
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterStore,
  deadLetterNotFound,
  parseDeadLetterId,
} from '../event-transport.js';
import { decodeDeadLetterRecord } from './dead-letter-record.js';

/** A dead letter as a broker stores it: its id and its encoded record (see `encodeDeadLetterRecord`). */
export interface StoredDeadLetter {
  /** The dead-letter id, `group:event:eventId`. */
  readonly id: string;
  /** The encoded record. */
  readonly text: string;
}

/** The parts of a dead-letter id. */
export interface DeadLetterAddress {
  readonly id: string;
  readonly group: string;
  readonly event: string;
  readonly eventId: string;
}

/** What a broker does for its {@link DeadLetterStore}. `R` may carry what the broker needs later (a revision). */
export interface DeadLetterBackend<R extends StoredDeadLetter> {
  /** The stored records of `filter.event` (every event when undefined); filtering by group is optional. */
  scan(filter: DeadLetterFilter): Promise<readonly R[]>;
  /** The stored record at `address`, or undefined. */
  read(address: DeadLetterAddress): Promise<R | undefined>;
  /** Delivers the record's event again to its group only (attempts start over) and removes it; false when it was gone. */
  replay(record: R, address: DeadLetterAddress): Promise<boolean>;
  /** Removes the record; false when it was gone. */
  remove(record: R, address: DeadLetterAddress): Promise<boolean>;
}

/** Dead letters as `DeadLetterStore.list` returns them: oldest first, at most `limit` (default 1,000). */
export function oldestDeadLetters(letters: DeadLetter[], limit = 1000): DeadLetter[] {
  letters.sort((a, b) => a.deadAt.getTime() - b.deadAt.getTime());
  return letters.slice(0, limit);
}

/** A {@link DeadLetterStore} over a broker's stored records. */
export function createDeadLetterStore<R extends StoredDeadLetter>(
  backend: DeadLetterBackend<R>,
): DeadLetterStore {
  const find = async (id: string): Promise<[R, DeadLetterAddress] | undefined> => {
    const parts = parseDeadLetterId(id);
    if (parts === undefined) return undefined;
    const address = { id, ...parts };
    const record = await backend.read(address);
    return record === undefined ? undefined : [record, address];
  };
  return {
    async list(filter: DeadLetterFilter = {}) {
      const letters: DeadLetter[] = [];
      for (const record of await backend.scan(filter)) {
        const letter = decodeDeadLetterRecord(record.id, record.text);
        if (filter.group !== undefined && letter.group !== filter.group) continue;
        if (filter.event !== undefined && letter.event !== filter.event) continue;
        letters.push(letter);
      }
      return oldestDeadLetters(letters, filter.limit);
    },
    async get(id: string) {
      const found = await find(id);
      return found === undefined ? undefined : decodeDeadLetterRecord(found[0].id, found[0].text);
    },
    async replay(id: string) {
      const found = await find(id);
      if (found === undefined || !(await backend.replay(...found))) throw deadLetterNotFound(id);
    },
    async discard(id: string) {
      const found = await find(id);
      if (found === undefined || !(await backend.remove(...found))) throw deadLetterNotFound(id);
    },
  };
}
