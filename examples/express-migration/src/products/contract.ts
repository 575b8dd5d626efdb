/**
 * Step 1 of the migration: what the product routes did, as a contract. The Express app (and anything
 * else) now calls these methods instead of querying the products table.
 */
import { defineError, defineService } from '@blueprint/core';
import { z } from 'zod';

/** A product. Prices are in cents. */
export const Product = z.object({
  id: z.string(),
  name: z.string(),
  price: z.number().int(),
  stock: z.number().int(),
});
/** A product. */
export type Product = z.infer<typeof Product>;

/** Fewer items in stock than asked for (`OUT_OF_STOCK`, 409). */
export const OutOfStockError = defineError('OUT_OF_STOCK', 409);

const ProductId = z.string().min(1).max(64);

/** The `products` service. */
export const Products = defineService(
  'products',
  {
    list: {
      input: z.object({ limit: z.number().int().min(1).max(100).default(50) }),
      output: z.array(Product),
      idempotent: true,
      description: 'The products, by id.',
    },
    get: {
      input: z.object({ id: ProductId }),
      output: Product,
      idempotent: true,
      description: 'One product.',
    },
    take: {
      input: z.object({ id: ProductId, quantity: z.number().int().min(1).max(100) }),
      output: Product,
      description: 'Takes items from the stock; answers the product as it was before.',
    },
  },
  { errors: [OutOfStockError], description: 'The catalogue and its stock.' },
);
