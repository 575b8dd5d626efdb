/** The event and the side effect the events snippets share. */
import { defineEvent } from '@blueprint/events';
import { z } from 'zod';

/** An order was placed. */
export const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string(), total: z.number() }));

/** What the billing handlers charged, by order id. */
export const charged = new Map<string, number>();

/** Charges an order once. */
export async function charge(order: { orderId: string; total: number }): Promise<void> {
  charged.set(order.orderId, order.total);
}
