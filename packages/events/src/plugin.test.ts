import {
  createApp,
  defineApp,
  defineService,
  inject,
  injectable,
  service,
  TopologyError,
} from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import { defineDriver } from '@blueprint/core/transport';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startMonolith } from '../../../test/harness/monolith.js';
import { httpSplit } from '../../../test/harness/topologies.js';
import {
  defineEvent,
  type EventBus,
  type EventMeta,
  type EventsPluginOptions,
  EventsTokens,
  eventsPlugin,
  OnEvent,
  type PayloadOf,
} from './index.js';
import { eventHandlersOf } from './on-event.js';
import { createMemoryTransport } from './transports/memory/index.js';

const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string(), at: z.date() }));
const Orders = defineService('orders', {
  place: { input: z.object({ orderId: z.string() }), output: z.string() },
});
const Billing = defineService('billing', {});
const Audit = defineService('audit', {});

const log: string[] = [];

@injectable()
class OrdersService {
  constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}
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

/** The shop's three services, with the events plugin made with `options`. */
const shopWith = (options?: EventsPluginOptions) =>
  defineApp({
    name: 'shop',
    services: [
      service(Orders, OrdersService),
      service(Billing, BillingService),
      service(Audit, AuditService),
    ],
    plugins: [eventsPlugin(options)],
  });
const app = shopWith();

/** A topology of two processes on http (no auth), with `events`. */
const twoProcesses = (events: object, processes: Record<string, unknown>) =>
  httpSplit(processes, { app: 'x', events });

const monolith = {
  app: 'x',
  events: { type: 'memory', maxAttempts: 3 },
  processes: { main: { services: ['orders', 'billing', 'audit'] } },
};

describe('eventsPlugin', () => {
  it('delivers to every subscribing service, including events published in onStart', async () => {
    log.length = 0;
    const shop = await startMonolith(app, { topology: monolith });
    const id = await shop.client(Orders).place({ orderId: 'o1' });
    await shop.client(Orders).place({ orderId: 'flaky' });
    await waitFor(() => log.length === 6, { message: 'six handled events' });
    expect(log.sort()).toEqual([
      'audit:early:audit',
      'audit:flaky:audit',
      'audit:o1:audit',
      'billing:early:1:-',
      'billing:flaky:2:cid-1',
      'billing:o1:1:cid-1',
    ]);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const bus = shop.resolve(EventsTokens.Bus);
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

  it('lets an app add a transport type with eventsPlugin({ transports }), with its own options', async () => {
    const created: unknown[] = [];
    const inProcess = defineDriver({
      type: 'in-process',
      schema: z.strictObject({ type: z.literal('in-process'), label: z.string().default('none') }),
      create: (options, context: { appName?: string }) => {
        created.push({ options, appName: context.appName });
        return createMemoryTransport();
      },
    });
    const custom = shopWith({ transports: [inProcess] });
    log.length = 0;
    const shop = await createApp(custom, {
      topology: { ...monolith, events: { type: 'in-process', label: 'x', maxAttempts: 2 } },
    });
    expect(created).toEqual([{ options: { type: 'in-process', label: 'x' }, appName: 'shop' }]);
    await shop.start();
    await shop.client(Orders).place({ orderId: 'o7' });
    await waitFor(() => log.includes('billing:o7:1:cid-1'), { message: 'the event on the added transport' });
    await shop.stop();
  });

  const { events: _, ...withoutEvents } = monolith;
  const split = twoProcesses(
    { type: 'memory' },
    { a: { services: ['orders'], address: 'http://127.0.0.1:1' }, b: { services: ['billing', 'audit'] } },
  );
  it.each([
    {
      name: 'refuses an unknown transport type, listing the allowed ones',
      options: { topology: { ...monolith, events: { type: 'rabbitmq' } } },
      messages: ['unknown event transport "rabbitmq"; allowed: memory, redis-streams, nats, kafka'],
    },
    {
      name: 'refuses unknown keys and bad values in the events section',
      options: {
        topology: { ...monolith, events: { type: 'redis-streams', url: 'http://x', visibilty: '1s' } },
      },
      messages: ['topology.events.url', 'topology.events.visibilty'],
    },
    {
      name: 'refuses the memory transport in a topology of several processes',
      options: { topology: split, process: 'b' },
      messages: ['"memory" keeps events inside one process'],
    },
    {
      name: 'asks for an events section when the app uses the plugin',
      options: { topology: withoutEvents },
      messages: ['topology.events is missing'],
    },
  ])('$name', async ({ options, messages }) => {
    const error = await createApp(app, options).catch((e) => e);
    expect(error).toBeInstanceOf(TopologyError);
    for (const message of messages) expect(error.message).toContain(message);
  });

  it('warns once when a process publishes an event that none of its services declares', async () => {
    const Shipped = defineEvent('order.shipped', z.object({ orderId: z.string() }));
    const Declared = defineService('orders', Orders.methods, { publishes: [OrderPlaced] });
    @injectable()
    class Shipping {
      constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}
      async place({ orderId }: { orderId: string }) {
        await this.bus.publish(OrderPlaced, { orderId, at: new Date() });
        return this.bus.publish(Shipped, { orderId });
      }
    }
    const declaring = defineApp({
      name: 'shop',
      services: [service(Declared, Shipping)],
      plugins: [eventsPlugin()],
    });
    const logs: Record<string, unknown>[] = [];
    const shop = await startMonolith(declaring, {
      topology: { events: { type: 'memory' } },
      logDestination: { write: (line) => logs.push(JSON.parse(line)) },
    });
    await shop.client(Declared).place({ orderId: 'o1' });
    await shop.client(Declared).place({ orderId: 'o2' });
    const warnings = logs.filter((l) => l.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        event: 'order.shipped',
        declared: ['order.placed'],
        msg: 'process "main" published "order.shipped", which none of its services (orders) declares: add the event to "publishes" of the contract whose service publishes it',
      }),
    ]);
    await shop.stop();
  });

  it('starts a process that neither publishes nor consumes while the broker is down; a consumer does not start', async () => {
    const down = defineDriver({
      type: 'down',
      schema: z.strictObject({ type: z.literal('down') }),
      create: () => {
        const transport = createMemoryTransport();
        return Object.assign(Object.create(transport) as typeof transport, {
          crossesProcesses: true,
          connect: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
        });
      },
    });
    const split = shopWith({ transports: [down] });
    const topology = twoProcesses(
      { type: 'down' },
      {
        calls: { services: ['audit'] },
        billing: { services: ['billing', 'orders'], address: 'http://127.0.0.1:1' },
      },
    );
    const quiet = defineApp({
      ...split,
      services: [service(Orders, OrdersService), service(Billing, BillingService), service(Audit, class {})],
    });
    const idle = await createApp(quiet, { topology, process: 'calls', listen: { port: 0 } });
    await idle.start();
    expect((await idle.readiness()).checks.events).toMatchObject({ ok: true });
    await idle.stop();

    const consumer = await createApp(split, { topology, process: 'billing', listen: { port: 0 } });
    await expect(consumer.start()).rejects.toThrow(/ECONNREFUSED/);
    await consumer.stop();
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
