/**
 * The outbox and inbox tables in SQLite, through a `better-sqlite3` database you opened. Writes in your
 * transaction are synchronous, as better-sqlite3 transactions are: call them inside `db.transaction(...)`.
 * Nothing imports `better-sqlite3` here; you pass the handle.
 */
import type Database from 'better-sqlite3';
import { EventsConfigError } from '../errors.js';
import {
  type OutboxCounts,
  type OutboxRecord,
  type OutboxRow,
  type OutboxStatements,
  type OutboxStore,
  type OutboxTables,
  outboxStatements,
  type RawOutboxRow,
  toOutboxRow,
} from './outbox-store.js';

/** A `better-sqlite3` database handle. */
export type SqliteDatabase = Database.Database;

/** Options of {@link createSqliteOutboxStore}. */
export type SqliteOutboxStoreOptions = OutboxTables;

/** The SQLite store: its transactional writes are synchronous. */
export type SqliteOutboxStore = OutboxStore<SqliteDatabase, 'sync'>;

class SqliteStore implements SqliteOutboxStore {
  readonly kind = 'sqlite';
  readonly mode = 'sync';
  private readonly sql: OutboxStatements;
  private statements: ReturnType<SqliteStore['prepare']> | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteOutboxStoreOptions,
  ) {
    this.sql = outboxStatements(options, 'createSqliteOutboxStore', () => '?');
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  add(tx: SqliteDatabase, records: readonly OutboxRecord[]): void {
    this.inTransaction(tx, 'an outbox write');
    const insert = this.prepared().insert;
    for (const record of records) insert.run(record.id, record.name, record.envelope, record.createdAt);
  }

  async claim(limit: number): Promise<OutboxRow[]> {
    return (this.prepared().due.all(limit) as RawOutboxRow[]).map(toOutboxRow);
  }

  async markSent(seqs: readonly number[]): Promise<void> {
    this.prepared().removeAll(seqs);
  }

  async recordAttempt(seq: number, error: string): Promise<void> {
    this.prepared().attempt.run(error, seq);
  }

  async park(seq: number, reason: string): Promise<void> {
    this.prepared().park.run(reason, seq);
  }

  async release(): Promise<void> {}

  async counts(): Promise<OutboxCounts> {
    const row = this.prepared().counts.get() as { pending: number | null; parked: number | null };
    return { pending: row.pending ?? 0, parked: row.parked ?? 0 };
  }

  async parked(limit = 100): Promise<OutboxRow[]> {
    return (this.prepared().parkedRows.all(limit) as RawOutboxRow[]).map(toOutboxRow);
  }

  markProcessed(tx: SqliteDatabase, group: string, id: string, now: number): boolean {
    this.inTransaction(tx, 'inbox.claim');
    return this.prepared().processed.run(group, id, now).changes === 1;
  }

  async purgeProcessed(before: number): Promise<number> {
    return this.prepared().purge.run(before).changes;
  }

  private inTransaction(tx: SqliteDatabase, what: string): void {
    if (tx !== this.db) {
      throw new EventsConfigError(
        `${what} got another database handle than its store's; pass the handle the store was made with`,
      );
    }
    if (!tx.inTransaction) {
      throw new EventsConfigError(
        `${what} needs an open transaction so it commits with your rows: call it inside db.transaction(() => ...)`,
      );
    }
  }

  private migrateSync(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.sql.outbox} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, name TEXT NOT NULL, envelope TEXT NOT NULL,
        created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, parked TEXT
      );
      CREATE TABLE IF NOT EXISTS ${this.sql.inbox} (
        grp TEXT NOT NULL, id TEXT NOT NULL, processed_at INTEGER NOT NULL, PRIMARY KEY (grp, id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${this.sql.inbox}_processed_at ON ${this.sql.inbox} (processed_at);
    `);
  }

  /** The statements, prepared once (creating the tables first when they are missing). */
  private prepared() {
    if (this.statements === undefined) {
      this.migrateSync();
      this.statements = this.prepare();
    }
    return this.statements;
  }

  private prepare() {
    const { db, sql } = this;
    const { outbox, inbox } = sql;
    const remove = db.prepare(`DELETE FROM ${outbox} WHERE seq = ?`);
    return {
      insert: db.prepare(`INSERT INTO ${outbox} (id, name, envelope, created_at) VALUES (?, ?, ?, ?)`),
      due: db.prepare(sql.due),
      /** Deletes delivered rows in one transaction (made once: better-sqlite3 builds a wrapper per call). */
      removeAll: db.transaction((seqs: readonly number[]) => {
        for (const seq of seqs) remove.run(seq);
      }),
      attempt: db.prepare(sql.attempt),
      park: db.prepare(sql.park),
      counts: db.prepare(
        `SELECT SUM(parked IS NULL) AS pending, SUM(parked IS NOT NULL) AS parked FROM ${outbox}`,
      ),
      parkedRows: db.prepare(sql.parkedRows),
      processed: db.prepare(`INSERT OR IGNORE INTO ${inbox} (grp, id, processed_at) VALUES (?, ?, ?)`),
      purge: db.prepare(sql.purge),
    };
  }
}

/**
 * The outbox and inbox of a SQLite database (`better-sqlite3`). The tables are created by `migrate()`
 * (`outbox.start()` calls it) or on first use. Throws `EVENTS_CONFIG_INVALID` for a bad table name.
 *
 * @example
 * const store = createSqliteOutboxStore(db);
 * const outbox = createOutbox({ bus, store });
 */
export function createSqliteOutboxStore(
  db: SqliteDatabase,
  options: SqliteOutboxStoreOptions = {},
): SqliteOutboxStore {
  if (typeof db?.prepare !== 'function' || typeof db.transaction !== 'function') {
    throw new EventsConfigError(
      'createSqliteOutboxStore needs a better-sqlite3 database: new Database(file) from "better-sqlite3"',
    );
  }
  return new SqliteStore(db, options);
}
