/**
 * The payments contract: payments are made in reaction to `order.placed`; the contract reads them.
 */
import { defineService } from '@blueprint/core';
import { z } from 'zod';
import { PaymentFailed, PaymentSucceeded } from './events.js';

/** A payment attempt for one order. */
export const Payment = z.object({
  id: z.string(),
  orderId: z.string(),
  amountCents: z.number().int(),
  status: z.enum(['succeeded', 'failed']),
  reason: z.string().nullable(),
  createdAt: z.date(),
});
/** A payment. */
export type Payment = z.infer<typeof Payment>;

/** Orders whose total is above this are declined (simulated card limit). */
export const PAYMENT_LIMIT_CENTS = 1_000_000;

/** The payments service. */
export const Payments = defineService(
  'payments',
  {
    forOrder: {
      input: z.object({ orderId: z.string().min(1).max(100) }),
      output: Payment,
      idempotent: true,
      description: 'the payment made for an order',
    },
  },
  { description: 'charges orders (simulated) once each', publishes: [PaymentSucceeded, PaymentFailed] },
);
