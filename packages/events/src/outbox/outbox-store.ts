/**
 * The storage an outbox and a transactional inbox need from a database, behind one small interface:
 * SQLite (`better-sqlite3`) and PostgreSQL (`pg`) implement it, and `describeOutboxStoreConformance`
 * (from `@blueprint/events/testing`) checks an implementation.
 *
 * Writes that belong to the caller's transaction (`add`, `markProcessed`) take the caller's transaction
 * handle; for SQLite they are synchronous (better-sqlite3 transactions are), for PostgreSQL they return a
 * promise. What the relay does (`claim`, `markSent`, ...) runs on the store's own connection.
 */
import { EventsConfigError } from '../errors.js';

/** A synchronous store (SQLite) returns values; an asynchronous one (PostgreSQL) returns promises. */
export type StoreResult<T, Mode extends StoreMode> = Mode extends 'sync' ? T : Promise<T>;

/** Whether a store's transactional writes are synchronous. */
export type StoreMode = 'sync' | 'async';

/** An event to write to the outbox. */
export interface OutboxRecord {
  /** The event id (the envelope's). */
  readonly id: string;
  /** The event name. */
  readonly name: string;
  /** The envelope as encoded text (core's codec; signed when the bus signs). */
  readonly envelope: string;
  /** When it was written, epoch ms. */
  readonly createdAt: number;
}

/** An outbox row as the relay reads it. */
export interface OutboxRow extends OutboxRecord {
  /** Position in the outbox: rows are delivered in this order. */
  readonly seq: number;
  /** Failed delivery attempts so far. */
  readonly attempts: number;
  /** The last delivery error (code and message), if any. */
  readonly lastError: string | undefined;
  /** Why the row was parked (it can never be delivered), if it was. */
  readonly parked: string | undefined;
}

/** How many rows an outbox holds. */
export interface OutboxCounts {
  /** Rows waiting for delivery. */
  readonly pending: number;
  /** Rows set aside because they can never be delivered. */
  readonly parked: number;
}

/** The outbox side of a store. */
export interface OutboxStore<Tx = unknown, Mode extends StoreMode = StoreMode> {
  /** `sqlite` or `postgres` (for messages and stats). */
  readonly kind: string;
  /** Whether `add` and `markProcessed` are synchronous. */
  readonly mode: Mode;
  /** Creates the outbox and inbox tables and indexes when missing. Safe to call again. */
  migrate(): Promise<void>;
  /**
   * Writes `records` in the caller's open transaction `tx`, so they commit or roll back with it. Throws
   * `EVENTS_CONFIG_INVALID` when `tx` is not in a transaction (when the driver can tell).
   */
  add(tx: Tx, records: readonly OutboxRecord[]): StoreResult<void, Mode>;
  /**
   * Claims the outbox for one relay and returns up to `limit` pending (not parked) rows, oldest first.
   * Resolves `[]` when another relay holds the claim. The claim lasts until {@link release}.
   */
  claim(limit: number): Promise<OutboxRow[]>;
  /** Marks rows delivered: they are removed. */
  markSent(seqs: readonly number[]): Promise<void>;
  /** Records a failed delivery attempt of a row (it stays pending). */
  recordAttempt(seq: number, error: string): Promise<void>;
  /** Parks a row that can never be delivered (it is kept, and no longer claimed). */
  park(seq: number, reason: string): Promise<void>;
  /** Ends the claim taken by {@link claim}. */
  release(): Promise<void>;
  /** Rows pending and parked. */
  counts(): Promise<OutboxCounts>;
  /** Parked rows, oldest first, for an operator to look at. */
  parked(limit?: number): Promise<OutboxRow[]>;
  /**
   * Records that `group` processed event `id`, in the caller's open transaction `tx`. Returns false when
   * it was recorded already (the handler should do nothing): the effect and the mark commit together.
   */
  markProcessed(tx: Tx, group: string, id: string, now: number): StoreResult<boolean, Mode>;
  /** Removes inbox marks older than `before` (epoch ms). Resolves how many went. */
  purgeProcessed(before: number): Promise<number>;
}

/** Table names of a store. Default: `blueprint_outbox` and `blueprint_inbox`. */
export interface OutboxTables {
  /** The outbox table. Default: `"blueprint_outbox"`. */
  readonly outboxTable?: string;
  /** The inbox table. Default: `"blueprint_inbox"`. */
  readonly inboxTable?: string;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The checked table names of `options`; throws `EVENTS_CONFIG_INVALID` naming a bad one. */
function tableNamesOf(options: OutboxTables, subject: string): { outbox: string; inbox: string } {
  const outbox = options.outboxTable ?? 'blueprint_outbox';
  const inbox = options.inboxTable ?? 'blueprint_inbox';
  for (const [key, name] of [
    ['outboxTable', outbox],
    ['inboxTable', inbox],
  ] as const) {
    if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      throw new EventsConfigError(
        `${subject}: ${key} ${JSON.stringify(name)} is not a table name; use letters, digits and "_" (at most 63), starting with a letter or "_"`,
      );
    }
  }
  return { outbox, inbox };
}

/** The message of a delivery error as stored in `last_error` (bounded). */
export function errorText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === 'string' ? `${code}: ${message}` : message).slice(0, 500);
}

/** An outbox row as a driver reads it (PostgreSQL gives BIGINT columns as strings). */
export interface RawOutboxRow {
  seq: number | string;
  id: string;
  name: string;
  envelope: string;
  created_at: number | string;
  attempts: number;
  last_error: string | null;
  parked: string | null;
}

/** The columns of {@link RawOutboxRow}, for a `SELECT`. */
const OUTBOX_COLUMNS = 'seq, id, name, envelope, created_at, attempts, last_error, parked';

/** The tables of a store and the statements every SQL dialect writes alike (parameters in order). */
export interface OutboxStatements {
  /** The outbox table. */
  readonly outbox: string;
  /** The inbox table. */
  readonly inbox: string;
  /** Pending rows, oldest first: `(limit)`. */
  readonly due: string;
  /** Parked rows, oldest first: `(limit)`. */
  readonly parkedRows: string;
  /** Counts a failed delivery attempt of a row: `(error, seq)`. */
  readonly attempt: string;
  /** Parks a row: `(reason, seq)`. */
  readonly park: string;
  /** Removes the inbox marks processed before a time: `(before)`. */
  readonly purge: string;
}

/**
 * The checked table names of `options` (throws `EVENTS_CONFIG_INVALID` naming a bad one, for `subject`)
 * and the shared statements, with `param(n)` as the dialect's n-th placeholder (`?`, `$1`).
 */
export function outboxStatements(
  options: OutboxTables,
  subject: string,
  param: (n: number) => string,
): OutboxStatements {
  const { outbox, inbox } = tableNamesOf(options, subject);
  const rows = (where: string) =>
    `SELECT ${OUTBOX_COLUMNS} FROM ${outbox} WHERE ${where} ORDER BY seq LIMIT ${param(1)}`;
  return {
    outbox,
    inbox,
    due: rows('parked IS NULL'),
    parkedRows: rows('parked IS NOT NULL'),
    attempt: `UPDATE ${outbox} SET attempts = attempts + 1, last_error = ${param(1)} WHERE seq = ${param(2)}`,
    park: `UPDATE ${outbox} SET parked = ${param(1)} WHERE seq = ${param(2)}`,
    purge: `DELETE FROM ${inbox} WHERE processed_at < ${param(1)}`,
  };
}

/** An {@link OutboxRow} from what a driver read. */
export function toOutboxRow(row: RawOutboxRow): OutboxRow {
  return {
    seq: Number(row.seq),
    id: row.id,
    name: row.name,
    envelope: row.envelope,
    createdAt: Number(row.created_at),
    attempts: row.attempts,
    lastError: row.last_error ?? undefined,
    parked: row.parked ?? undefined,
  };
}
