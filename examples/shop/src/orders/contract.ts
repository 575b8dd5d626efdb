/**
 * The orders contract.
 */
import { defineService } from '@blueprint/core';
import { z } from 'zod';
import { OrderPlaced } from './events.js';

/** Lifecycle of an order. */
export const OrderStatus = z.enum(['pending', 'paid', 'payment_failed']);

/** An order. */
export const Order = z.object({
  id: z.string(),
  productId: z.string(),
  quantity: z.number().int(),
  totalCents: z.number().int(),
  status: OrderStatus,
  createdAt: z.date(),
});
/** An order. */
export type Order = z.infer<typeof Order>;

/** What a customer sends to place an order. */
export const PlaceOrder = z.strictObject({
  productId: z.string().min(1).max(100),
  quantity: z.number().int().min(1).max(100),
});

/** The orders service. */
export const Orders = defineService(
  'orders',
  {
    place: {
      input: PlaceOrder,
      output: Order,
      description: 'reserves stock, stores the order as pending and publishes order.placed',
    },
    get: { input: z.object({ id: z.string().min(1).max(100) }), output: Order, idempotent: true },
  },
  { description: 'orders and their payment status', publishes: [OrderPlaced] },
);
