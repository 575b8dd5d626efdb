/**
 * The products service: the SQL of the old product routes, moved behind the contract. It owns the
 * products table; nothing else reads it any more.
 */
import { type ImplementationOf, inject, injectable, NotFoundError } from '@blueprint/core';
import type { ShopDatabase } from '../database.js';
import { OutOfStockError, type Product, type Products } from './contract.js';

/** DI token of the products database. */
export const ProductsDatabase = Symbol.for('express-migration:products-database');

/** Implements {@link Products}. */
@injectable()
export class ProductsService implements ImplementationOf<typeof Products> {
  constructor(@inject(ProductsDatabase) private readonly db: ShopDatabase) {}

  /** The products, by id. */
  async list({ limit }: { limit: number }): Promise<Product[]> {
    return this.db
      .prepare('SELECT id, name, price, stock FROM products ORDER BY id LIMIT ?')
      .all(limit) as Product[];
  }

  /** One product, or `NOT_FOUND`. */
  async get({ id }: { id: string }): Promise<Product> {
    const row = this.db.prepare('SELECT id, name, price, stock FROM products WHERE id = ?').get(id) as
      | Product
      | undefined;
    if (row === undefined) throw new NotFoundError(`product ${id} does not exist`, { details: { id } });
    return row;
  }

  /** Takes `quantity` items, or `NOT_FOUND` / `OUT_OF_STOCK` with nothing changed. */
  async take({ id, quantity }: { id: string; quantity: number }): Promise<Product> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT id, name, price, stock FROM products WHERE id = ?').get(id) as
        | Product
        | undefined;
      if (row === undefined) throw new NotFoundError(`product ${id} does not exist`, { details: { id } });
      if (row.stock < quantity) {
        throw new OutOfStockError(`product ${id} has ${row.stock} left`, {
          details: { id, available: row.stock, requested: quantity },
        });
      }
      this.db.prepare('UPDATE products SET stock = stock - ? WHERE id = ?').run(quantity, id);
      return row;
    })();
  }
}
