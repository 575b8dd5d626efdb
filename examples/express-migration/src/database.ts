/**
 * The shop's SQLite database (better-sqlite3), as the Express app had it: a `products` table and an
 * `orders` table. After the migration each side opens its own: the products service its products, the
 * Express app its orders.
 */
import Database from 'better-sqlite3';

/** A database handle. */
export type ShopDatabase = Database.Database;

/** The products every new database starts with. */
export const SEED_PRODUCTS = [
  { id: 'p1', name: 'Anvil', price: 4999, stock: 5 },
  { id: 'p2', name: 'Hammer', price: 1250, stock: 20 },
  { id: 'p3', name: 'Tongs', price: 899, stock: 0 },
] as const;

/**
 * Opens the database at `file` (`:memory:` for one that lives as long as the process), creates the
 * tables when missing, and seeds the products of an empty products table.
 */
export function openDatabase(file = ':memory:'): ShopDatabase {
  const db = new Database(file);
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS products (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      price INTEGER NOT NULL,
      stock INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS orders (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      product_id TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      total INTEGER NOT NULL
    );
  `);
  const { count } = db.prepare('SELECT COUNT(*) AS count FROM products').get() as { count: number };
  if (count === 0) {
    const insert = db.prepare('INSERT INTO products (id, name, price, stock) VALUES (?, ?, ?, ?)');
    for (const p of SEED_PRODUCTS) insert.run(p.id, p.name, p.price, p.stock);
  }
  return db;
}
