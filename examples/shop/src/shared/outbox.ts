/**
 * A service's outbox and inbox (`@blueprint/events/outbox`), both in its own SQLite database: events it
 * publishes inside `outbox.within(db, ...)` commit with its rows, and `inbox.claim(db, meta)` commits a
 * handled event id with the handler's effect.
 */
import type { Telemetry } from '@blueprint/core';
import type { AnyEvent, EventBus } from '@blueprint/events';
import {
  createInbox,
  createOutbox,
  createSqliteOutboxStore,
  type Outbox,
  type TransactionalInbox,
} from '@blueprint/events/outbox';
import type { ServiceDatabase } from './database.js';

/** The outbox and inbox of one service database. */
export interface ServiceOutbox {
  readonly outbox: Outbox<ServiceDatabase, 'sync'>;
  readonly inbox: TransactionalInbox<ServiceDatabase, 'sync'>;
}

/**
 * Creates the outbox (delivering only `events`, reporting delivery failures as warnings and parked rows
 * as errors in the service's log) and the inbox over `db`. Start the outbox in `onStart`, stop it before
 * closing the database.
 */
export function serviceOutbox(
  db: ServiceDatabase,
  bus: EventBus,
  telemetry: Telemetry,
  events: readonly AnyEvent[],
): ServiceOutbox {
  const store = createSqliteOutboxStore(db);
  const logger = telemetry.logger.child({ component: 'outbox' });
  const outbox = createOutbox({
    bus,
    store,
    events,
    onError: (error, { kind, row }) =>
      logger[kind === 'delivery' ? 'warn' : 'error']({ err: error, kind, row }, 'outbox: %s', kind),
  });
  return { outbox, inbox: createInbox(store) };
}
