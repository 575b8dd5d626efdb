/**
 * Where the migration starts: the Express app as it was, every route calling the database directly.
 * It is kept beside the migrated app so the same tests pin down that its public API did not change.
 *
 * - `GET /products?limit=` — the products, by id
 * - `GET /products/:id` — one product
 * - `POST /orders` `{ productId, quantity }` — takes the stock and records the order
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { ShopDatabase } from '../database.js';

/** An error answer of the Express app: `{ error: { code, message } }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ProductRow {
  id: string;
  name: string;
  price: number;
  stock: number;
}

/** The Express app before the migration, over one database. */
export function createLegacyApp(db: ShopDatabase): Express {
  const app = express();
  app.use(express.json());

  app.get('/products', (request, response) => {
    const raw = request.query.limit;
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'limit must be an integer from 1 to 100');
    }
    response.json(db.prepare('SELECT id, name, price, stock FROM products ORDER BY id LIMIT ?').all(limit));
  });

  app.get('/products/:id', (request, response) => {
    if (request.params.id.length > 64) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'a product id has at most 64 characters');
    }
    const row = db
      .prepare('SELECT id, name, price, stock FROM products WHERE id = ?')
      .get(request.params.id) as ProductRow | undefined;
    if (row === undefined)
      throw new HttpError(404, 'NOT_FOUND', `product ${request.params.id} does not exist`);
    response.json(row);
  });

  app.post('/orders', (request, response) => {
    const { productId, quantity } = (request.body ?? {}) as { productId?: unknown; quantity?: unknown };
    if (typeof productId !== 'string' || productId === '' || productId.length > 64) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'productId must be a product id');
    }
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 100) {
      throw new HttpError(400, 'VALIDATION_FAILED', 'quantity must be an integer from 1 to 100');
    }
    const order = db.transaction(() => {
      const row = db.prepare('SELECT id, name, price, stock FROM products WHERE id = ?').get(productId) as
        | ProductRow
        | undefined;
      if (row === undefined) throw new HttpError(404, 'NOT_FOUND', `product ${productId} does not exist`);
      if (row.stock < quantity) {
        throw new HttpError(409, 'OUT_OF_STOCK', `product ${productId} has ${row.stock} left`);
      }
      db.prepare('UPDATE products SET stock = stock - ? WHERE id = ?').run(quantity, productId);
      const total = row.price * quantity;
      const { lastInsertRowid } = db
        .prepare('INSERT INTO orders (product_id, quantity, total) VALUES (?, ?, ?)')
        .run(productId, quantity, total);
      return { id: Number(lastInsertRowid), productId, quantity, total };
    })();
    response.status(201).json(order);
  });

  app.use((request, _response, next) => {
    next(new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${request.path}`));
  });
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      response.status(error.status).json({ error: { code: error.code, message: error.message } });
    } else if ((error as { type?: unknown }).type === 'entity.parse.failed') {
      response.status(400).json({ error: { code: 'MALFORMED_JSON', message: 'the body is not JSON' } });
    } else {
      response.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
    }
  });
  return app;
}
