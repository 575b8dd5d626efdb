/**
 * The products tables: the catalog, and one reservation row per order so reserving and releasing are
 * idempotent.
 */
import { type ServiceDatabase, statementsOf } from '../shared/database.js';
import type { Product } from './contract.js';

/** The catalog seeded on first start with an empty store. */
export const SEED_CATALOG: readonly Product[] = [
  { id: 'p-keyboard', name: 'Mechanical keyboard', priceCents: 8_900, stock: 500 },
  { id: 'p-mouse', name: 'Wireless mouse', priceCents: 2_900, stock: 500 },
  { id: 'p-monitor', name: '27" monitor', priceCents: 32_900, stock: 200 },
  { id: 'p-laptop', name: 'Laptop', priceCents: 149_900, stock: 150 },
  { id: 'p-cable', name: 'USB-C cable', priceCents: 900, stock: 1_000 },
  { id: 'p-server', name: 'Rack server', priceCents: 1_250_000, stock: 100 },
];

/** Outcome of a reservation attempt. */
export type ReserveOutcome =
  | { readonly kind: 'reserved'; readonly stock: number }
  | { readonly kind: 'already'; readonly stock: number }
  | { readonly kind: 'unknown-product' }
  | { readonly kind: 'short'; readonly available: number };

interface ProductRow {
  id: string;
  name: string;
  price_cents: number;
  stock: number;
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  stock: row.stock,
});

/** Data access for the products service. */
export class ProductsRepository {
  /** Statements prepared once per repository. */
  private readonly sql: ReturnType<typeof statementsOf>;
  /** The reserve and release transactions, made once (better-sqlite3 builds a wrapper per `transaction` call). */
  private readonly reserving: (orderId: string, productId: string, quantity: number) => ReserveOutcome;
  private readonly releasing: (orderId: string) => { productId: string; stock: number } | undefined;

  constructor(private readonly db: ServiceDatabase) {
    this.sql = statementsOf(db);
    // Immediate: the write lock is taken before the stock is read.
    this.reserving = db.transaction(this.reserveNow.bind(this)).immediate;
    this.releasing = db.transaction(this.releaseNow.bind(this)).immediate;
  }

  /** Creates the tables and seeds the catalog when it is empty (once, whichever replica comes first). */
  migrate(seed: readonly Product[] = SEED_CATALOG): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS products (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL, stock INTEGER NOT NULL CHECK (stock >= 0)
      );
      CREATE TABLE IF NOT EXISTS reservations (
        order_id TEXT PRIMARY KEY, product_id TEXT NOT NULL, quantity INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0
      );
    `);
    const count = this.sql('SELECT COUNT(*) AS n FROM products');
    const insert = this.sql('INSERT INTO products (id, name, price_cents, stock) VALUES (?, ?, ?, ?)');
    // Immediate: replicas sharing the database file seed it once between them.
    this.db
      .transaction(() => {
        if ((count.get() as { n: number }).n > 0) return;
        for (const p of seed) insert.run(p.id, p.name, p.priceCents, p.stock);
      })
      .immediate();
  }

  /** Every product, by id. */
  list(): Product[] {
    return (this.sql('SELECT * FROM products ORDER BY id').all() as ProductRow[]).map(toProduct);
  }

  /** One product, or undefined. */
  find(id: string): Product | undefined {
    const row = this.sql('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined;
    return row === undefined ? undefined : toProduct(row);
  }

  /** Takes stock for an order, once: a second reservation for the same order changes nothing. */
  reserve(orderId: string, productId: string, quantity: number): ReserveOutcome {
    return this.reserving(orderId, productId, quantity);
  }

  /** Gives an order's stock back, once. Returns the product and its new stock, or undefined. */
  release(orderId: string): { productId: string; stock: number } | undefined {
    return this.releasing(orderId);
  }

  private reserveNow(orderId: string, productId: string, quantity: number): ReserveOutcome {
    const product = this.find(productId);
    if (product === undefined) return { kind: 'unknown-product' };
    const existing = this.sql('SELECT 1 FROM reservations WHERE order_id = ?').get(orderId);
    if (existing !== undefined) return { kind: 'already', stock: product.stock };
    if (product.stock < quantity) return { kind: 'short', available: product.stock };
    this.sql('UPDATE products SET stock = stock - ? WHERE id = ?').run(quantity, productId);
    this.sql('INSERT INTO reservations (order_id, product_id, quantity) VALUES (?, ?, ?)').run(
      orderId,
      productId,
      quantity,
    );
    return { kind: 'reserved', stock: product.stock - quantity };
  }

  private releaseNow(orderId: string): { productId: string; stock: number } | undefined {
    const reservation = this.sql(
      'SELECT product_id, quantity, released FROM reservations WHERE order_id = ?',
    ).get(orderId) as { product_id: string; quantity: number; released: number } | undefined;
    if (reservation === undefined) return undefined;
    if (reservation.released === 0) {
      this.sql('UPDATE products SET stock = stock + ? WHERE id = ?').run(
        reservation.quantity,
        reservation.product_id,
      );
      this.sql('UPDATE reservations SET released = 1 WHERE order_id = ?').run(orderId);
    }
    const product = this.find(reservation.product_id);
    return { productId: reservation.product_id, stock: product?.stock ?? 0 };
  }
}
