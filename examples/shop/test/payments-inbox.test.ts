/**
 * The payments inbox: the same `order.placed` delivered again (same event id) charges the order once
 * and announces one outcome, because the handler claims the event id in the transaction of its charge.
 */
import { type EventMeta, EventsTokens } from '@blueprint/events';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/harness/index.js';
import { OrderPlaced } from '../src/orders/events.js';
import { PaymentSucceeded } from '../src/payments/events.js';
import { startMonolith } from './support/shop-under-test.js';

describe('payments handles a redelivered order.placed once', () => {
  it('charges an order once when its order.placed arrives twice with the same event id', async () => {
    const shop = await startMonolith();
    try {
      const bus = shop.app.resolve(EventsTokens.Bus);
      const placedEvents = new Map<string, { payload: unknown; meta: EventMeta }>();
      const outcomes: string[] = [];
      await bus.subscribe(
        OrderPlaced,
        (payload, meta) => void placedEvents.set(payload.orderId, { payload, meta }),
        { group: 'test-observer' },
      );
      await bus.subscribe(PaymentSucceeded, (payment) => void outcomes.push(payment.orderId), {
        group: 'test-observer',
      });
      const handledByPayments = () =>
        bus.stats().subscriptions.find((s) => s.group === 'payments' && s.event === OrderPlaced.name)
          ?.handled ?? 0;

      const placed = await shop.request('POST', '/orders', { productId: 'p-keyboard', quantity: 1 });
      expect(placed.status).toBe(201);
      const orderId: string = placed.body.id;
      await waitFor(async () => (await shop.request('GET', `/orders/${orderId}`)).body.status === 'paid', {
        message: 'the order to be paid',
      });
      await waitFor(() => placedEvents.has(orderId) && outcomes.includes(orderId), {
        message: 'the order.placed and its payment.succeeded to be seen',
      });
      const original = placedEvents.get(orderId)!;

      // The same event (same id, same payload) delivered twice more.
      const before = handledByPayments();
      for (let i = 0; i < 2; i++) {
        await bus.publish(OrderPlaced, original.payload as never, { id: original.meta.id });
      }
      await waitFor(() => handledByPayments() === before + 2, {
        message: 'payments to handle both redeliveries',
      });

      // Outcomes leave payments in order: once the next order's outcome is seen, a second outcome of the
      // first one would have been seen before it.
      const next = await shop.request('POST', '/orders', { productId: 'p-keyboard', quantity: 1 });
      expect(next.status).toBe(201);
      await waitFor(() => outcomes.includes(next.body.id), { message: 'the next order to be paid' });
      expect(outcomes.filter((id) => id === orderId)).toHaveLength(1);
      expect((await shop.request('GET', `/orders/${orderId}`)).body.status).toBe('paid');
    } finally {
      await shop.stop();
    }
  });
});
