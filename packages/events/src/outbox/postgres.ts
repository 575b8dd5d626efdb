/**
 * The outbox and inbox tables in PostgreSQL, through a `pg` pool you made. Writes in your transaction
 * take the client that runs it (`const tx = await pool.connect(); await tx.query('BEGIN')`). The relay
 * holds a session advisory lock while it delivers, so one relay at a time delivers a table's rows, in
 * order, whatever the number of replicas. Nothing imports `pg` here; you pass the pool.
 */
import type { ClientBase, Pool, PoolClient } from 'pg';
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

/** Options of {@link createPostgresOutboxStore}. */
export type PostgresOutboxStoreOptions = OutboxTables;

/** The PostgreSQL store: its transactional writes take a client in a transaction and return promises. */
export type PostgresOutboxStore = OutboxStore<ClientBase, 'async'>;

class PostgresStore implements PostgresOutboxStore {
  readonly kind = 'postgres';
  readonly mode = 'async';
  private readonly sql: OutboxStatements;
  /** The connection that holds the relay's advisory lock, between `claim` and `release`. */
  private claimer: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    options: PostgresOutboxStoreOptions,
  ) {
    this.sql = outboxStatements(options, 'createPostgresOutboxStore', (n) => `$${n}`);
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Two processes creating the same table at once collide in the catalog: take turns.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.sql.outbox}:migrate`]);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.sql.outbox} (
          seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, envelope TEXT NOT NULL,
          created_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, parked TEXT
        );
        CREATE TABLE IF NOT EXISTS ${this.sql.inbox} (
          grp TEXT NOT NULL, id TEXT NOT NULL, processed_at BIGINT NOT NULL, PRIMARY KEY (grp, id)
        );
        CREATE INDEX IF NOT EXISTS ${this.sql.inbox}_processed_at ON ${this.sql.inbox} (processed_at);
      `);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async add(tx: ClientBase, records: readonly OutboxRecord[]): Promise<void> {
    this.inTransaction(tx, 'an outbox write');
    if (records.length === 0) return;
    await this.run(
      tx.query(
        `INSERT INTO ${this.sql.outbox} (id, name, envelope, created_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[])`,
        [
          records.map((r) => r.id),
          records.map((r) => r.name),
          records.map((r) => r.envelope),
          records.map((r) => r.createdAt),
        ],
      ),
    );
  }

  async claim(limit: number): Promise<OutboxRow[]> {
    if (this.claimer === undefined) {
      const client = await this.pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
          [this.sql.outbox],
        );
        if (rows[0]?.locked !== true) {
          client.release();
          return [];
        }
      } catch (error) {
        client.release(true);
        throw error;
      }
      this.claimer = client;
    }
    const { rows } = await this.run(this.claimer.query<RawOutboxRow>(this.sql.due, [limit]));
    return rows.map(toOutboxRow);
  }

  async markSent(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.run(
      this.connection().query(`DELETE FROM ${this.sql.outbox} WHERE seq = ANY($1::int8[])`, [seqs]),
    );
  }

  async recordAttempt(seq: number, error: string): Promise<void> {
    await this.run(this.connection().query(this.sql.attempt, [error, seq]));
  }

  async park(seq: number, reason: string): Promise<void> {
    await this.run(this.connection().query(this.sql.park, [reason, seq]));
  }

  async release(): Promise<void> {
    const client = this.claimer;
    if (client === undefined) return;
    this.claimer = undefined;
    try {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.sql.outbox]);
      client.release();
    } catch (error) {
      // A broken connection: dropping it ends the session, and with it the lock.
      client.release(true);
      throw error;
    }
  }

  async counts(): Promise<OutboxCounts> {
    const { rows } = await this.run(
      this.pool.query<{ pending: string; parked: string }>(
        `SELECT COUNT(*) FILTER (WHERE parked IS NULL) AS pending, COUNT(*) FILTER (WHERE parked IS NOT NULL) AS parked FROM ${this.sql.outbox}`,
      ),
    );
    return { pending: Number(rows[0]?.pending ?? 0), parked: Number(rows[0]?.parked ?? 0) };
  }

  async parked(limit = 100): Promise<OutboxRow[]> {
    const { rows } = await this.run(this.pool.query<RawOutboxRow>(this.sql.parkedRows, [limit]));
    return rows.map(toOutboxRow);
  }

  async markProcessed(tx: ClientBase, group: string, id: string, now: number): Promise<boolean> {
    this.inTransaction(tx, 'inbox.claim');
    const result = await this.run(
      tx.query(
        `INSERT INTO ${this.sql.inbox} (grp, id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [group, id, now],
      ),
    );
    return result.rowCount === 1;
  }

  async purgeProcessed(before: number): Promise<number> {
    const result = await this.run(this.pool.query(this.sql.purge, [before]));
    return result.rowCount ?? 0;
  }

  /** The claiming connection while a relay holds the claim, else the pool. */
  private connection(): Pick<Pool, 'query'> {
    return this.claimer ?? this.pool;
  }

  private inTransaction(tx: ClientBase, what: string): void {
    if (typeof tx?.query !== 'function') {
      throw new EventsConfigError(
        `${what} needs the pg client that runs your transaction: const tx = await pool.connect(); await tx.query('BEGIN')`,
      );
    }
    const status = typeof tx.getTransactionStatus === 'function' ? tx.getTransactionStatus() : 'T';
    if (status !== 'T' && status !== 'E') {
      throw new EventsConfigError(
        `${what} needs an open transaction so it commits with your rows: run it after tx.query('BEGIN')`,
      );
    }
  }

  /** Turns "the table does not exist" into a coded error that says what to call. */
  private async run<T>(query: Promise<T>): Promise<T> {
    try {
      return await query;
    } catch (error) {
      if ((error as { code?: unknown }).code === '42P01') {
        throw new EventsConfigError(
          `the outbox tables ${this.sql.outbox} and ${this.sql.inbox} do not exist: call store.migrate() (outbox.start() does) first`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/**
 * The outbox and inbox of a PostgreSQL database (`pg`). `migrate()` (`outbox.start()` calls it) creates
 * the tables. Throws `EVENTS_CONFIG_INVALID` for a bad table name.
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const outbox = createOutbox({ bus, store: createPostgresOutboxStore(pool) });
 */
export function createPostgresOutboxStore(
  pool: Pool,
  options: PostgresOutboxStoreOptions = {},
): PostgresOutboxStore {
  if (typeof pool?.connect !== 'function' || typeof pool.query !== 'function') {
    throw new EventsConfigError('createPostgresOutboxStore needs a pg pool: new Pool({ connectionString })');
  }
  return new PostgresStore(pool, options);
}
