// #region example
import { type CallContext, defineApp, defineService, inject, injectable, service } from '@blueprint/core';
import {
  defineEvent,
  type EventBus,
  type EventMeta,
  EventsTokens,
  eventsPlugin,
  OnEvent,
  type PayloadOf,
} from '@blueprint/events';
import { z } from 'zod';

export const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string(), total: z.number() }));

export const Orders = defineService(
  'orders',
  { place: { input: OrderPlaced.schema, output: z.void() } },
  { publishes: [OrderPlaced] },
);
export const Billing = defineService('billing', {});

@injectable()
class OrdersService {
  constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}
  async place(input: { orderId: string; total: number }, context?: CallContext) {
    await this.bus.publish(OrderPlaced, input, { headers: context?.headers });
  }
}

@injectable()
class BillingService {
  @OnEvent(OrderPlaced, { maxAttempts: 3, inbox: true })
  async charge(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta) {
    console.log(`charging ${order.total} for ${order.orderId} (event ${meta.name})`);
  }
}

export const app = defineApp({
  name: 'shop',
  services: [service(Orders, OrdersService), service(Billing, BillingService)],
  plugins: [eventsPlugin()],
});

// #endregion example

import { createApp } from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';

// In one process on the memory transport: placing an order charges it.
const running = await createApp(app, {
  topology: {
    app: 'src/app.ts',
    events: { type: 'memory' },
    processes: { main: { services: ['orders', 'billing'] } },
  },
});
await running.start();
await running.client(Orders).place({ orderId: 'o1', total: 42 });
await waitFor(() =>
  running
    .resolve(EventsTokens.Bus)
    .stats()
    .subscriptions.some((s) => s.handled === 1),
);
await running.stop();
