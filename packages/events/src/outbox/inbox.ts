/**
 * The transactional inbox: a handler records the event id in its own database transaction, so its
 * effect and its dedupe mark commit (or roll back) together. Exactly one effect per group and event id,
 * whatever the transport redelivers.
 */
import type { Duration } from '@blueprint/core';
import { durationSchema, parseOptions } from '@blueprint/core/plugin';
import { EventsConfigError, EventsHandlerError } from '../errors.js';
import type { EventMeta } from '../handler.js';
import type { OutboxStore, StoreMode, StoreResult } from './outbox-store.js';

/** A group's processed event ids, in the handler's database. */
export interface TransactionalInbox<Tx, Mode extends StoreMode = StoreMode> {
  /**
   * Records `meta.id` as processed by `meta.group` in transaction `tx`. Returns true the first time;
   * false when it was processed already, so the handler does nothing more (and its transaction changes
   * nothing). Synchronous for SQLite, a promise for PostgreSQL. Throws `EVENTS_CONFIG_INVALID` outside
   * a transaction.
   *
   * @example
   * db.transaction(() => {
   *   if (!inbox.claim(db, meta)) return;
   *   payments.insert(order.orderId);
   * })();
   */
  claim(tx: Tx, meta: Pick<EventMeta, 'group' | 'id'>): StoreResult<boolean, Mode>;
  /** Forgets ids processed longer ago than `olderThan` (keep them at least as long as the broker keeps events). Resolves how many went. */
  purge(olderThan: Duration): Promise<number>;
}

/**
 * The inbox of a store (`createSqliteOutboxStore(db)` or `createPostgresOutboxStore(pool)`): the same
 * database, its own table. Call `store.migrate()` (or `outbox.start()`) first for PostgreSQL.
 *
 * @example
 * const inbox = createInbox(createSqliteOutboxStore(db));
 */
export function createInbox<Tx, Mode extends StoreMode>(
  store: OutboxStore<Tx, Mode>,
): TransactionalInbox<Tx, Mode> {
  if (typeof store?.markProcessed !== 'function') {
    throw new EventsConfigError(
      'createInbox needs a store: createSqliteOutboxStore(db) or createPostgresOutboxStore(pool)',
    );
  }
  return {
    claim(tx, meta) {
      const group = meta?.group;
      const id = meta?.id;
      if (typeof group !== 'string' || group === '' || typeof id !== 'string' || id === '') {
        throw new EventsHandlerError(
          "inbox.claim needs the handler's meta (its group and event id): claim(tx, meta)",
        );
      }
      return store.markProcessed(tx, group, id, Date.now());
    },
    purge(olderThan) {
      const ms = parseOptions(durationSchema, olderThan, {
        subject: 'inbox.purge(olderThan)',
        error: EventsConfigError,
      });
      return store.purgeProcessed(Date.now() - ms);
    },
  };
}
