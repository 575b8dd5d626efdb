/**
 * Step 3: `POST /orders` stays an Express route for now, but takes the stock through the products
 * contract instead of the products table: the last line that read another part's table is gone, so
 * products can move to its own process. Its errors answer through the same table as the routes'.
 */
import type { ClientOf } from '@blueprint/core';
import { ValidationError } from '@blueprint/core';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { ShopDatabase } from './database.js';
import type { Products } from './products/contract.js';

const PlaceOrder = z.object({
  productId: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(100),
});

/** The orders routes, over the orders table and the products client. */
export function ordersRouter(products: ClientOf<typeof Products>, db: ShopDatabase): Router {
  const router = express.Router();
  router.post('/orders', express.json(), async (request, response) => {
    const parsed = PlaceOrder.safeParse(request.body);
    if (!parsed.success) {
      throw new ValidationError('the order is not valid', { details: { issues: parsed.error.issues } });
    }
    const { productId, quantity } = parsed.data;
    const product = await products.take({ id: productId, quantity });
    const total = product.price * quantity;
    const { lastInsertRowid } = db
      .prepare('INSERT INTO orders (product_id, quantity, total) VALUES (?, ?, ?)')
      .run(productId, quantity, total);
    response.status(201).json({ id: Number(lastInsertRowid), productId, quantity, total });
  });
  return router;
}
