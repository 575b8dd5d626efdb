/**
 * Events the orders service publishes.
 */
import { defineEvent } from '@blueprint/events';
import { z } from 'zod';

/** An order was stored as pending and its stock reserved. */
export const OrderPlaced = defineEvent(
  'order.placed',
  z.object({
    orderId: z.string(),
    productId: z.string(),
    quantity: z.number().int().positive(),
    totalCents: z.number().int().nonnegative(),
  }),
  { version: 1 },
);
