/**
 * The orders tables: orders, and an outbox so `order.placed` is published at least once for every
 * stored order even when the broker is down at the moment the order is placed.
 */
import type { ServiceDatabase } from '../shared/database.js';
import type { Order } from './contract.js';

interface OrderRow {
  id: string;
  product_id: string;
  quantity: number;
  total_cents: number;
  status: Order['status'];
  created_at: number;
}

/** An event waiting in the outbox. */
export interface OutboxEntry {
  /** The event id, kept across publish attempts so consumers can drop duplicates. */
  readonly id: string;
  readonly event: string;
  readonly payload: string;
  /**
   * Headers to publish the event with, as JSON: the request's correlation id and trace context, so
   * the handlers of the event log the same correlation id and join the request's trace.
   */
  readonly headers: string | null;
}

const toOrder = (row: OrderRow): Order => ({
  id: row.id,
  productId: row.product_id,
  quantity: row.quantity,
  totalCents: row.total_cents,
  status: row.status,
  createdAt: new Date(row.created_at),
});

/** Data access for the orders service. */
export class OrdersRepository {
  constructor(private readonly db: ServiceDatabase) {}

  /** Creates the tables. */
  migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS orders (
        id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL, total_cents INTEGER NOT NULL,
        status TEXT NOT NULL, created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS outbox (
        id TEXT PRIMARY KEY, event TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL,
        headers TEXT
      );
    `);
    const columns = this.db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[];
    if (!columns.some((column) => column.name === 'headers')) {
      this.db.exec('ALTER TABLE outbox ADD COLUMN headers TEXT');
    }
  }

  /** Stores a new order and its outgoing event in one transaction. */
  insertWithEvent(order: Order, event: OutboxEntry): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO orders (id, product_id, quantity, total_cents, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          order.id,
          order.productId,
          order.quantity,
          order.totalCents,
          order.status,
          order.createdAt.getTime(),
        );
      this.db
        .prepare('INSERT INTO outbox (id, event, payload, created_at, headers) VALUES (?, ?, ?, ?, ?)')
        .run(event.id, event.event, event.payload, Date.now(), event.headers);
    })();
  }

  /** One order, or undefined. */
  find(id: string): Order | undefined {
    const row = this.db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as OrderRow | undefined;
    return row === undefined ? undefined : toOrder(row);
  }

  /** Moves a pending order to `status`. Returns false when the order was not pending (already moved). */
  settle(id: string, status: 'paid' | 'payment_failed'): boolean {
    return (
      this.db.prepare("UPDATE orders SET status = ? WHERE id = ? AND status = 'pending'").run(status, id)
        .changes === 1
    );
  }

  /** The oldest outbox entries. */
  pendingEvents(limit = 100): OutboxEntry[] {
    return this.db
      .prepare('SELECT id, event, payload, headers FROM outbox ORDER BY created_at LIMIT ?')
      .all(limit) as OutboxEntry[];
  }

  /** Removes a published outbox entry. */
  markPublished(id: string): void {
    this.db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
  }
}
