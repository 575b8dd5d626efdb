// The contracts: what each service offers, with zod schemas. Plain JavaScript, as in TypeScript.
import { defineService } from '@blueprint/core';
import { z } from 'zod';

export const Quotes = defineService('quotes', {
  price: {
    input: z.object({ sku: z.string().min(1) }),
    output: z.object({ sku: z.string(), cents: z.number().int() }),
    idempotent: true,
  },
});

export const Checkout = defineService('checkout', {
  total: {
    input: z.object({ skus: z.array(z.string()).min(1) }),
    output: z.object({ cents: z.number().int(), lookups: z.number().int() }),
  },
});
