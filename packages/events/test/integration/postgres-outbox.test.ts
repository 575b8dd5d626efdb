/**
 * The PostgreSQL outbox store against a real server (a private one per file): the store conformance
 * suite, and what only PostgreSQL shows (concurrent handlers of one event id).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startPostgres } from '../../../../test/harness/index.js';
import { createInbox, createPostgresOutboxStore } from '../../src/outbox/index.js';
import { describeOutboxStoreConformance } from '../../src/testing/index.js';

let server: ServerHandle;
let pool: pg.Pool;
let tables = 0;

beforeAll(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 8 });
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

async function transaction<R>(fn: (tx: pg.PoolClient) => R): Promise<Awaited<R>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const names = () => ({ outboxTable: `outbox_${tables}`, inboxTable: `inbox_${tables}` });

describeOutboxStoreConformance<pg.ClientBase>('postgres', {
  createStore: (another) => {
    if (another !== true) tables++;
    return createPostgresOutboxStore(pool, names());
  },
  transaction,
  outside: async (fn) => {
    const client = await pool.connect();
    try {
      return (await fn(client)) as never;
    } finally {
      client.release();
    }
  },
  exclusiveClaim: true,
});

describe('PostgreSQL outbox store', () => {
  it('lets one of two concurrent handlers of an event id claim it: the other waits, then gets false', async () => {
    tables++;
    const store = createPostgresOutboxStore(pool, names());
    await store.migrate();
    const inbox = createInbox(store);
    const meta = { group: 'billing', id: 'evt-1' };
    let releaseFirst!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const first = transaction(async (tx) => {
      const claimed = await inbox.claim(tx, meta);
      await held;
      return claimed;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    let secondDone = false;
    const second = transaction((tx) => inbox.claim(tx, meta)).finally(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    releaseFirst();
    expect(await first).toBe(true);
    expect(await second).toBe(false);
  });

  it('says what to call when the tables are missing', async () => {
    const store = createPostgresOutboxStore(pool, {
      outboxTable: 'missing_outbox',
      inboxTable: 'missing_inbox',
    });
    await expect(store.claim(1)).rejects.toMatchObject({
      code: 'EVENTS_CONFIG_INVALID',
      message: expect.stringContaining('store.migrate()'),
    });
    await store.release();
  });
});
