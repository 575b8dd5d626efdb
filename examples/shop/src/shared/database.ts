/**
 * One embedded SQLite database per service (better-sqlite3). No service reads another's tables: each
 * opens its own file under the data directory.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { HealthRegistry } from '@blueprint/core';
import Database from 'better-sqlite3';
import { dataDirOf, type Settings } from './settings.js';

/** A service's database handle. */
export type ServiceDatabase = Database.Database;

/**
 * Opens `<dataDir>/<service>.db` (creating the directory), or an in-memory database when `dataDir` is
 * `:memory:`. WAL mode and a busy timeout make it safe for one process with concurrent requests.
 */
export function openServiceDatabase(dataDir: string, service: string): ServiceDatabase {
  if (dataDir === ':memory:') return new Database(':memory:');
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, `${service}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  return db;
}

/**
 * The statement of a SQL text on `db`, prepared on first use and reused after: better-sqlite3 statements
 * can run any number of times, and preparing one costs more than running a short query.
 */
export function statementsOf(db: ServiceDatabase): (sql: string) => Database.Statement {
  const prepared = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = prepared.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      prepared.set(sql, statement);
    }
    return statement;
  };
}

/** A readiness check for a database: a trivial query must answer. */
export function databaseCheck(db: ServiceDatabase): () => { ok: boolean; details?: unknown } {
  return () => {
    try {
      db.prepare('SELECT 1').get();
      return { ok: true };
    } catch (error) {
      return { ok: false, details: { error: (error as Error).message } };
    }
  };
}

/**
 * Opens a service's database under the data directory named by the settings, and reports it in the
 * process's readiness as `database:<service>`.
 */
export function openDatabaseFor(
  service: string,
  settings: Settings,
  health: HealthRegistry,
): ServiceDatabase {
  const db = openServiceDatabase(dataDirOf(settings), service);
  health.add(`database:${service}`, databaseCheck(db));
  return db;
}
