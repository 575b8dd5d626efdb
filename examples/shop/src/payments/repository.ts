/**
 * The payments table. Redelivered events are absorbed by the inbox (`inbox.claim` in the handler's
 * transaction); the table's `UNIQUE (order_id)` is kept as a rule of the data model — an order has at
 * most one payment — so a second `order.placed` for one order under another event id is refused, not
 * charged again.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceDatabase } from '../shared/database.js';
import { PAYMENT_LIMIT_CENTS, type Payment } from './contract.js';

interface PaymentRow {
  id: string;
  order_id: string;
  amount_cents: number;
  status: Payment['status'];
  reason: string | null;
  created_at: number;
}

const toPayment = (row: PaymentRow): Payment => ({
  id: row.id,
  orderId: row.order_id,
  amountCents: row.amount_cents,
  status: row.status,
  reason: row.reason,
  createdAt: new Date(row.created_at),
});

/** Data access for the payments service. */
export class PaymentsRepository {
  constructor(private readonly db: ServiceDatabase) {}

  /** Creates the table. */
  migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS payments (
        id TEXT PRIMARY KEY, order_id TEXT NOT NULL UNIQUE, amount_cents INTEGER NOT NULL,
        status TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL
      );
    `);
  }

  /**
   * Charges an order (simulated): decides and stores the outcome. Call it in the handler's transaction,
   * after its inbox claim. A second payment for one order throws (`UNIQUE (order_id)`).
   */
  charge(orderId: string, amountCents: number): Payment {
    const declined = amountCents > PAYMENT_LIMIT_CENTS;
    const payment: Payment = {
      id: randomUUID(),
      orderId,
      amountCents,
      status: declined ? 'failed' : 'succeeded',
      reason: declined ? `amount ${amountCents} is over the limit of ${PAYMENT_LIMIT_CENTS} cents` : null,
      createdAt: new Date(),
    };
    this.db
      .prepare(
        'INSERT INTO payments (id, order_id, amount_cents, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(payment.id, orderId, amountCents, payment.status, payment.reason, payment.createdAt.getTime());
    return payment;
  }

  /** The payment of an order, or undefined. */
  forOrder(orderId: string): Payment | undefined {
    const row = this.db.prepare('SELECT * FROM payments WHERE order_id = ?').get(orderId) as
      | PaymentRow
      | undefined;
    return row === undefined ? undefined : toPayment(row);
  }

  /** Number of charges made (one per order). */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM payments').get() as { n: number }).n;
  }
}
