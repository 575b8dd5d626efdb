import {
  createApp,
  defineApp,
  defineService,
  inject,
  injectable,
  service,
  TopologyError,
} from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineEvent,
  type EventBus,
  EventBusToken,
  type EventMeta,
  eventHandlersOf,
  eventsPlugin,
  OnEvent,
  type PayloadOf,
} from './index.js';

const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string(), at: z.date() }));
const Orders = defineService('orders', {
  place: { input: z.object({ orderId: z.string() }), output: z.string() },
});
const Billing = defineService('billing', {});
const Audit = defineService('audit', {});

const log: string[] = [];

@injectable()
class OrdersService {
  constructor(@inject(EventBusToken) private readonly bus: EventBus) {}
  async onStart() {
    await this.bus.publish(OrderPlaced, { orderId: 'early', at: new Date(0) });
  }
  async place({ orderId }: { orderId: string }) {
    return this.bus.publish(
      OrderPlaced,
      { orderId, at: new Date() },
      { headers: { 'x-correlation-id': 'cid-1' } },
    );
  }
}

@injectable()
class BillingService {
  @OnEvent(OrderPlaced, { maxAttempts: 2, backoff: [10] })
  async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta) {
    if (order.orderId === 'flaky' && meta.attempt === 1) throw new Error('flaky');
    log.push(`billing:${order.orderId}:${meta.attempt}:${meta.headers['x-correlation-id'] ?? '-'}`);
  }
}

@injectable()
class AuditService {
  @OnEvent(OrderPlaced)
  record(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta) {
    log.push(`audit:${order.orderId}:${meta.group}`);
  }
}

const app = defineApp({
  name: 'shop',
  services: [service(Orders, OrdersService), service(Billing, BillingService), service(Audit, AuditService)],
  plugins: [eventsPlugin()],
});

const monolith = {
  app: 'x',
  events: { type: 'memory', maxAttempts: 3 },
  processes: { main: { services: ['orders', 'billing', 'audit'] } },
};

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('eventsPlugin', () => {
  it('delivers to every subscribing service, including events published in onStart', async () => {
    log.length = 0;
    const shop = await createApp(app, { topology: monolith });
    await shop.start();
    const id = await shop.client(Orders).place({ orderId: 'o1' });
    await shop.client(Orders).place({ orderId: 'flaky' });
    await waitFor(() => log.length === 6);
    expect(log.sort()).toEqual([
      'audit:early:audit',
      'audit:flaky:audit',
      'audit:o1:audit',
      'billing:early:1:-',
      'billing:flaky:2:cid-1',
      'billing:o1:1:cid-1',
    ]);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const bus = shop.resolve(EventBusToken);
    expect(
      bus
        .stats()
        .subscriptions.map((s) => `${s.group}:${s.event}`)
        .sort(),
    ).toEqual(['audit:order.placed', 'billing:order.placed']);
    expect((await shop.readiness()).checks.events).toMatchObject({ ok: true });
    await shop.stop();
    expect((await bus.health()).ok).toBe(false);
  });

  it('refuses an unknown transport type, listing the allowed ones', async () => {
    const error = await createApp(app, { topology: { ...monolith, events: { type: 'kafka' } } }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toContain('unknown event transport "kafka"; allowed: memory, redis-streams');
  });

  it('refuses unknown keys and bad values in the events section', async () => {
    const error = await createApp(app, {
      topology: { ...monolith, events: { type: 'redis-streams', url: 'http://x', visibilty: '1s' } },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toContain('topology.events.url');
    expect(error.message).toContain('topology.events.visibilty');
  });

  it('refuses the memory transport in a topology of several processes', async () => {
    const error = await createApp(app, {
      topology: {
        app: 'x',
        rpc: { type: 'http' },
        events: { type: 'memory' },
        processes: {
          a: { services: ['orders'], address: 'http://127.0.0.1:1' },
          b: { services: ['billing', 'audit'] },
        },
      },
      process: 'b',
    }).catch((e) => e);
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toContain('"memory" keeps events inside one process');
  });

  it('asks for an events section when the app uses the plugin', async () => {
    const { events: _, ...withoutEvents } = monolith;
    const error = await createApp(app, { topology: withoutEvents }).catch((e) => e);
    expect(error).toBeInstanceOf(TopologyError);
    expect(error.message).toContain('topology.events is missing');
  });

  it('refuses two handlers of one event in one service', () => {
    class Twice {
      @OnEvent(OrderPlaced)
      a() {}
      @OnEvent(OrderPlaced)
      b() {}
    }
    expect(() => eventHandlersOf(Twice)).toThrow(/Twice handles "order.placed" twice \(a and b\)/);
    expect(eventHandlersOf(AuditService)).toEqual([{ method: 'record', events: [OrderPlaced], options: {} }]);
  });
});
