/**
 * The payments table: one row per order, so an order is charged once however often its event arrives.
 */
import { randomUUID } from 'node:crypto';
import { type ServiceDatabase, statementsOf } from '../shared/database.js';
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
  /** Statements prepared once per repository. */
  private readonly sql: ReturnType<typeof statementsOf>;

  constructor(private readonly db: ServiceDatabase) {
    this.sql = statementsOf(db);
  }

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
   * Charges an order once (simulated): the first call decides and stores the outcome, later calls
   * return the stored one. `charged` tells whether this call made the charge.
   */
  chargeOnce(orderId: string, amountCents: number): { payment: Payment; charged: boolean } {
    const declined = amountCents > PAYMENT_LIMIT_CENTS;
    const row: PaymentRow = {
      id: randomUUID(),
      order_id: orderId,
      amount_cents: amountCents,
      status: declined ? 'failed' : 'succeeded',
      reason: declined ? `amount ${amountCents} is over the limit of ${PAYMENT_LIMIT_CENTS} cents` : null,
      created_at: Date.now(),
    };
    const inserted = this.sql(
      'INSERT OR IGNORE INTO payments (id, order_id, amount_cents, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(row.id, row.order_id, row.amount_cents, row.status, row.reason, row.created_at);
    // The row just inserted is the one stored; an order charged before reads its own.
    if (inserted.changes === 1) return { payment: toPayment(row), charged: true };
    return { payment: this.forOrder(orderId)!, charged: false };
  }

  /** The payment of an order, or undefined. */
  forOrder(orderId: string): Payment | undefined {
    const row = this.sql('SELECT * FROM payments WHERE order_id = ?').get(orderId) as PaymentRow | undefined;
    return row === undefined ? undefined : toPayment(row);
  }

  /** Number of charges made (one per order). */
  count(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM payments').get() as { n: number }).n;
  }
}
