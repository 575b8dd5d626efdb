import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { describeOutboxStoreConformance } from '../testing/outbox-store-conformance.js';
import { createSqliteOutboxStore, type SqliteDatabase } from './sqlite.js';

let db: SqliteDatabase | undefined;

describeOutboxStoreConformance('sqlite', {
  createStore: () => {
    db ??= new Database(':memory:');
    return createSqliteOutboxStore(db);
  },
  transaction: async (fn) => {
    const handle = db!;
    let result: unknown;
    // better-sqlite3 refuses a transaction function that returns a promise (a publish's, say).
    handle.transaction(() => {
      result = fn(handle);
    })();
    return (await result) as never;
  },
  outside: async (fn) => (await fn(db!)) as never,
  cleanup: async () => {
    db?.close();
    db = undefined;
  },
});

describe('createSqliteOutboxStore', () => {
  it('refuses what is not a better-sqlite3 database and bad table names', () => {
    expect(() => createSqliteOutboxStore({} as never)).toThrow(/better-sqlite3 database/);
    const memory = new Database(':memory:');
    expect(() => createSqliteOutboxStore(memory, { outboxTable: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({ code: 'EVENTS_CONFIG_INVALID' }),
    );
    memory.close();
  });

  it('refuses a write with another database handle', () => {
    const one = new Database(':memory:');
    const two = new Database(':memory:');
    const store = createSqliteOutboxStore(one);
    expect(() =>
      two.transaction(() => store.add(two, [{ id: 'a', name: 'n', envelope: '{}', createdAt: 0 }]))(),
    ).toThrow(/another database handle/);
    one.close();
    two.close();
  });
});
