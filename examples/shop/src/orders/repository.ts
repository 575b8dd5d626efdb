/**
 * The orders table. Its outgoing events go through the framework's outbox (`@blueprint/events/outbox`),
 * whose table lives in the same database, so an order and its `order.placed` commit together.
 */
import { type ServiceDatabase, statementsOf } from '../shared/database.js';
import type { Order } from './contract.js';

interface OrderRow {
  id: string;
  product_id: string;
  quantity: number;
  total_cents: number;
  status: Order['status'];
  created_at: number;
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
  /** Statements prepared once per repository. */
  private readonly sql: ReturnType<typeof statementsOf>;

  constructor(private readonly db: ServiceDatabase) {
    this.sql = statementsOf(db);
  }

  /** Creates the table. */
  migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS orders (
        id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL, total_cents INTEGER NOT NULL,
        status TEXT NOT NULL, created_at INTEGER NOT NULL
      );
    `);
  }

  /** Stores a new order; call it in a transaction to commit it with its outbox rows. */
  insert(order: Order): void {
    this.sql(
      'INSERT INTO orders (id, product_id, quantity, total_cents, status, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      order.id,
      order.productId,
      order.quantity,
      order.totalCents,
      order.status,
      order.createdAt.getTime(),
    );
  }

  /** One order, or undefined. */
  find(id: string): Order | undefined {
    const row = this.sql('SELECT * FROM orders WHERE id = ?').get(id) as OrderRow | undefined;
    return row === undefined ? undefined : toOrder(row);
  }

  /** Moves a pending order to `status`. Returns false when the order was not pending (already moved). */
  settle(id: string, status: 'paid' | 'payment_failed'): boolean {
    return (
      this.sql("UPDATE orders SET status = ? WHERE id = ? AND status = 'pending'").run(status, id).changes ===
      1
    );
  }
}
