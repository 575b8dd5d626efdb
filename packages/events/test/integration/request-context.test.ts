/**
 * The request context flows through events without application code passing it: a call made with a
 * correlation id publishes an event (passing no headers), its handler calls another service (passing no
 * context), and that last hop sees the first call's correlation id — in one process on the memory
 * transport and in three processes on Redis Streams.
 */
import { randomUUID } from 'node:crypto';
import {
  type BlueprintApp,
  type ClientOf,
  defineApp,
  defineService,
  inject,
  injectable,
  requestContext,
  runWithRequestContext,
  service,
} from '@blueprint/core';
import { describe, expect, inject as injectValue, it } from 'vitest';
import { z } from 'zod';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import { startMonolith } from '../../../../test/harness/monolith.js';
import { appStarter, quiet } from '../../../../test/harness/started-apps.js';
import { defineEvent, type EventBus, EventsTokens, eventsPlugin, OnEvent } from '../../src/index.js';

const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string() }));

const Orders = defineService('orders', {
  place: { input: z.object({ orderId: z.string() }), output: z.string() },
});
const Billing = defineService('billing', { noop: { input: z.void(), output: z.void() } });
const Ledger = defineService('ledger', {
  record: { input: z.object({ orderId: z.string() }), output: z.void() },
  seen: {
    input: z.void(),
    output: z.array(z.object({ orderId: z.string(), correlationId: z.string().nullable() })),
  },
});

@injectable()
class OrdersService {
  constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}
  async place({ orderId }: { orderId: string }) {
    return this.bus.publish(OrderPlaced, { orderId });
  }
}

@injectable()
class BillingService {
  constructor(@inject(Ledger.token) private readonly ledger: ClientOf<typeof Ledger>) {}
  async noop() {}
  @OnEvent(OrderPlaced)
  async onOrderPlaced({ orderId }: { orderId: string }) {
    await this.ledger.record({ orderId });
  }
}

@injectable()
class LedgerService {
  private readonly records: { orderId: string; correlationId: string | null }[] = [];
  async record({ orderId }: { orderId: string }) {
    this.records.push({ orderId, correlationId: requestContext()?.headers?.['x-correlation-id'] ?? null });
  }
  async seen() {
    return this.records;
  }
}

const app = defineApp({
  name: 'context-events',
  services: [
    service(Orders, OrdersService),
    service(Billing, BillingService),
    service(Ledger, LedgerService),
  ],
  plugins: [eventsPlugin()],
});
const start = appStarter();

/** All three services in one process, on the memory transport. */
const startOneProcess = () =>
  startMonolith(app, { topology: { app: './app.js', events: { type: 'memory' } }, logDestination: quiet });

/** The ledger's record of `orderId`, once it has one. */
async function recordOf(ledger: ClientOf<typeof Ledger>, orderId: string) {
  await waitFor(async () => (await ledger.seen()).some((record) => record.orderId === orderId), {
    timeout: 5000,
  });
  return (await ledger.seen()).find((record) => record.orderId === orderId);
}

async function placeAndWait(caller: BlueprintApp, ledger: ClientOf<typeof Ledger>) {
  const orderId = randomUUID();
  const orders = caller.client(Orders);
  await orders.place({ orderId }, { headers: { 'x-correlation-id': 'cid-from-the-edge' } });
  return recordOf(ledger, orderId);
}

describe('the request context through events', () => {
  it('in one process: the handler’s call carries the publishing call’s correlation id', async () => {
    const main = await startOneProcess();
    const record = await placeAndWait(main, main.client(Ledger));
    expect(record).toMatchObject({ correlationId: 'cid-from-the-edge' });
  });

  it('in three processes on Redis Streams: the correlation id crosses the broker and the next call', async () => {
    const [ordersPort, ledgerPort] = [await getFreePort(), await getFreePort()];
    const topology = {
      app: './app.js',
      auth: 'none',
      rpc: { type: 'http', timeout: '3s' },
      events: { type: 'redis-streams', url: injectValue('redisUrl'), prefix: `ctx-${randomUUID()}` },
      processes: {
        orders: { services: ['orders'], address: `http://127.0.0.1:${ordersPort}` },
        billing: { services: ['billing'] },
        ledger: { services: ['ledger'], address: `http://127.0.0.1:${ledgerPort}` },
      },
    };
    const ledger = await start(app, { topology, process: 'ledger', listen: { port: ledgerPort } });
    await start(app, { topology, process: 'billing' });
    const orders = await start(app, { topology, process: 'orders', listen: { port: ordersPort } });
    const record = await placeAndWait(orders, ledger.client(Ledger));
    expect(record).toMatchObject({ correlationId: 'cid-from-the-edge' });
  });

  it('headers given to publish win over the request context’s', async () => {
    const main = await startOneProcess();
    const bus = main.resolve<EventBus>(EventsTokens.Bus);
    const orderId = randomUUID();
    await runWithRequestContext({ headers: { 'x-correlation-id': 'from-context' } }, () =>
      bus.publish(OrderPlaced, { orderId }, { headers: { 'x-correlation-id': 'explicit' } }),
    );
    expect(await recordOf(main.client(Ledger), orderId)).toMatchObject({ correlationId: 'explicit' });
  });
});
