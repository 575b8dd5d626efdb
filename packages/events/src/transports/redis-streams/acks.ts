/**
 * Batched acks of one redis-streams subscription: every entry settled in one turn of the event loop is
 * acked with one `XACK` per stream (with the inbox, one script records the ids and acks them). Acks that
 * fail while Redis is away are kept and written again once the connection is back.
 */
import type { LuaScript } from '@blueprint/core/redis';
import type { Redis } from 'ioredis';
import type { PendingWrites } from '../../transport/broker/pending-writes.js';
import { ackWithInboxScript } from './scripts.js';

const MAX_SCRIPT_BATCH = 500;

/** 0: the event's stream; 1: the group's retry stream. */
export type Source = 0 | 1;

/** What the acks of a subscription need. */
export interface AckTarget {
  readonly group: string;
  readonly inbox: boolean;
  /** The event's stream and the group's retry stream. */
  readonly streamKeys: readonly [string, string];
  /** The group's inbox set. */
  readonly inboxKey: string;
  readonly counters: Record<string, number>;
  readonly writes: PendingWrites;
  command(): Redis;
  run(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** True once the subscription closed: failed acks are not kept any more. */
  isClosed(): boolean;
}

/** The acks of one subscription, by stream. */
export class AckBatch {
  private acks: [string[], string[]] = [[], []];
  private ackIds: [string[], string[]] = [[], []];
  private readonly flushing: string[][] = [];
  private scheduled = false;

  constructor(private readonly target: AckTarget) {}

  /** Acks entry `entryId` of `source` (recording `eventId` in the inbox when it is on) in the next flush. */
  add(source: Source, entryId: string, eventId: string): void {
    this.acks[source].push(entryId);
    if (this.target.inbox) this.ackIds[source].push(eventId);
    this.schedule();
  }

  /** Keys (`<source><entry id>`) of entries acked here and not yet written: never hand them out again. */
  addKeysTo(known: Set<string>): void {
    for (const source of [0, 1] as const) for (const id of this.acks[source]) known.add(`${source}${id}`);
    for (const batch of this.flushing) for (const key of batch) known.add(key);
  }

  /** The command connection is back: writes the acks that failed. */
  retryFailed(): void {
    if (this.acks[0].length > 0 || this.acks[1].length > 0) this.schedule();
  }

  /** Writes every ack collected so far. */
  flush(): void {
    this.scheduled = false;
    for (const source of [0, 1] as const) {
      while (this.acks[source].length > 0) this.write(source);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private write(source: Source): void {
    const target = this.target;
    const ids = this.acks[source].splice(0, MAX_SCRIPT_BATCH);
    const eventIds = target.inbox ? this.ackIds[source].splice(0, MAX_SCRIPT_BATCH) : [];
    const key = target.streamKeys[source];
    const keys = ids.map((id) => `${source}${id}`);
    this.flushing.push(keys);
    const written = target.inbox
      ? target.run(
          ackWithInboxScript,
          [key, target.inboxKey],
          [target.group, ids.length, ...ids, ...eventIds],
        )
      : target.command().xack(key, target.group, ...ids);
    target.writes.add(
      written.then(
        () => this.flushing.splice(this.flushing.indexOf(keys), 1),
        (error: unknown) => {
          this.flushing.splice(this.flushing.indexOf(keys), 1);
          target.counters.ackFailures! += ids.length;
          if (target.isClosed()) throw error;
          // Keep them: they are written again once the connection is back (see retryFailed).
          this.acks[source].push(...ids);
          if (target.inbox) this.ackIds[source].push(...eventIds);
          throw error;
        },
      ),
    );
  }
}
