/** The `products` contract the cache snippets implement. */
import { defineService } from '@blueprint/core';
import { z } from 'zod';

/** A product of the catalogue. */
export const Product = z.object({ id: z.string(), name: z.string(), price: z.number() });

/** The `products` service. */
export const Products = defineService('products', {
  get: { input: z.object({ id: z.string() }), output: Product, idempotent: true },
  update: { input: z.object({ id: z.string(), price: z.number() }), output: z.void() },
});
