/**
 * @blueprint/events/outbox — the transactional outbox and inbox: `bus.publish` inside
 * `outbox.within(tx, fn)` writes the event in your database transaction and a relay delivers it; a
 * handler's `inbox.claim(tx, meta)` commits its dedupe mark with its effect. Stores for SQLite
 * (`better-sqlite3`) and PostgreSQL (`pg`), which you pass in: nothing here imports either.
 *
 * @example
 * const outbox = createOutbox({ bus, store: createSqliteOutboxStore(db), events: [OrderPlaced] });
 * await outbox.start();
 * db.transaction(() => {
 *   insertOrder.run(order);
 *   outbox.within(db, () => bus.publish(OrderPlaced, { orderId: order.id }));
 * })();
 */
export { createInbox, type TransactionalInbox } from './inbox.js';
export {
  createOutbox,
  OUTBOX_BACKOFF,
  type Outbox,
  type OutboxErrorContext,
  type OutboxOptions,
  type OutboxStats,
  type WithinResult,
} from './outbox.js';
export type {
  OutboxCounts,
  OutboxRecord,
  OutboxRow,
  OutboxStore,
  OutboxTables,
  StoreMode,
  StoreResult,
} from './outbox-store.js';
export {
  createPostgresOutboxStore,
  type PostgresOutboxStore,
  type PostgresOutboxStoreOptions,
} from './postgres.js';
export {
  createSqliteOutboxStore,
  type SqliteDatabase,
  type SqliteOutboxStore,
  type SqliteOutboxStoreOptions,
} from './sqlite.js';
