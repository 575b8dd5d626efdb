/**
 * Events the payments service publishes.
 */
import { defineEvent } from '@blueprint/events';
import { z } from 'zod';

/** The order's payment was charged. */
export const PaymentSucceeded = defineEvent(
  'payment.succeeded',
  z.object({ orderId: z.string(), paymentId: z.string(), amountCents: z.number().int() }),
  { version: 1 },
);

/** The order's payment was declined. */
export const PaymentFailed = defineEvent(
  'payment.failed',
  z.object({ orderId: z.string(), reason: z.string() }),
  { version: 1 },
);
