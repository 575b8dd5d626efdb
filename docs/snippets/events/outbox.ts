// #region outbox
import { createEventBus } from '@blueprint/events';
import { createInbox, createOutbox, createSqliteOutboxStore } from '@blueprint/events/outbox';
import { createMemoryTransport } from '@blueprint/events/transports/memory';
import Database from 'better-sqlite3';

const db = new Database(':memory:'); // your service's database file
db.exec(`CREATE TABLE orders (id TEXT PRIMARY KEY, total INTEGER NOT NULL);
         CREATE TABLE charges (order_id TEXT PRIMARY KEY, total INTEGER NOT NULL);`);
const bus = createEventBus({ transport: createMemoryTransport() });
const store = createSqliteOutboxStore(db);
const outbox = createOutbox({ bus, store, events: [OrderPlaced] });
await outbox.start(); // creates blueprint_outbox and blueprint_inbox, starts the relay
// #endregion outbox

// #region inbox
const inbox = createInbox(store);
await bus.subscribe(
  OrderPlaced,
  (order, meta) =>
    db.transaction(() => {
      if (!inbox.claim(db, meta)) return; // this group handled this event id already
      db.prepare('INSERT INTO charges (order_id, total) VALUES (?, ?)').run(order.orderId, order.total);
    })(),
  { group: 'billing' },
);
// #endregion inbox

// #region outbox

// The order and its event commit together, or neither does.
db.transaction(() => {
  db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run('o1', 42);
  outbox.within(db, () => bus.publish(OrderPlaced, { orderId: 'o1', total: 42 }));
})();

// #endregion outbox

import assert from 'node:assert/strict';
import { waitFor } from '@blueprint/core/testing';
import { OrderPlaced } from './billing.js';

assert.throws(
  () =>
    db.transaction(() => {
      db.prepare('INSERT INTO orders (id, total) VALUES (?, ?)').run('o2', 1);
      outbox.within(db, () => bus.publish(OrderPlaced, { orderId: 'o2', total: 'one' as never }));
    })(),
  { code: 'VALIDATION_FAILED' },
);
assert.deepEqual(db.prepare('SELECT id FROM orders').all(), [{ id: 'o1' }]);
await waitFor(() => db.prepare('SELECT order_id FROM charges').all().length === 1);
assert.equal(outbox.stats().delivered, 1);
await bus.stop();
db.close();
