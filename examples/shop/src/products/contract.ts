/**
 * The products contract: the catalog and its stock.
 */
import { defineError, defineService } from '@blueprint/core';
import { z } from 'zod';

/** A product as the catalog shows it. */
export const Product = z.object({
  id: z.string(),
  name: z.string(),
  priceCents: z.number().int().nonnegative(),
  stock: z.number().int().nonnegative(),
});
/** A product. */
export type Product = z.infer<typeof Product>;

/** Not enough stock for a reservation (409). `details` has `available` and `requested`. */
export const OutOfStockError = defineError('OUT_OF_STOCK', 409, 'OutOfStockError');

const ProductId = z.object({ id: z.string().min(1).max(100) });
/** A reservation of stock for one order; the order id makes it idempotent. */
const Reservation = z.object({
  orderId: z.string().min(1).max(100),
  productId: z.string().min(1).max(100),
  quantity: z.number().int().min(1).max(100),
});
const Release = z.object({ orderId: z.string().min(1).max(100) });
const StockLevel = z.object({ productId: z.string(), stock: z.number().int() });

/** The products service. */
export const Products = defineService(
  'products',
  {
    list: { input: z.void(), output: z.array(Product), idempotent: true, description: 'the whole catalog' },
    get: { input: ProductId, output: Product, idempotent: true, description: 'one product (cached)' },
    reserve: {
      input: Reservation,
      output: StockLevel,
      idempotent: true,
      description: 'takes stock for an order; reserving again for the same order changes nothing',
    },
    release: {
      input: Release,
      output: StockLevel.nullable(),
      idempotent: true,
      description: "gives an order's reserved stock back; null when the order reserved nothing",
    },
  },
  { errors: [OutOfStockError], description: 'catalog and stock' },
);
