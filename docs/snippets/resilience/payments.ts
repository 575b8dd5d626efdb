/** The `payments` service the resilience example's app hosts. */
import { defineService, injectable } from '@blueprint/core';
import { z } from 'zod';

/** The `payments` contract. */
export const Payments = defineService('payments', {
  charge: {
    input: z.object({ orderId: z.string(), amount: z.number() }),
    output: z.object({ ok: z.boolean() }),
  },
});

/** Implements {@link Payments}: every charge succeeds. */
@injectable()
export class PaymentsService {
  async charge(_input: { orderId: string; amount: number }) {
    return { ok: true };
  }
}
