/**
 * Replicas of one service share its events: two apps built from the same app and the same process
 * entry (what `blueprint dev` starts for `"replicas": 2`) consume one consumer group, named after the
 * service, on a real broker. Each event is handled once, and both replicas get some.
 */
import { type AppDefinition, createApp, defineApp, defineService, service } from '@blueprint/core';
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { getFreePort, waitFor } from '../../../../test/harness/index.js';
import {
  defineEvent,
  type EventBus,
  type EventMeta,
  EventsTokens,
  eventsPlugin,
  OnEvent,
  type PayloadOf,
} from '../../src/index.js';

const OrderPlaced = defineEvent('order.placed', z.object({ n: z.number().int() }));
const Billing = defineService('billing', {});
const Orders = defineService('orders', {});

/** Which replica handled which event, and in which group. */
const handledBy = new Map<number, string[]>();

function billingClass(replica: string) {
  class BillingService {
    @OnEvent(OrderPlaced)
    async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const seen = handledBy.get(order.n) ?? [];
      seen.push(`${replica}@${meta.group}`);
      handledBy.set(order.n, seen);
    }
  }
  return BillingService;
}

class OrdersService {}

let counter = 0;
const quiet = { write: () => undefined };
const redisUrl = inject('redisUrl');
const natsUrl = inject('natsUrl');
let redis: Redis;
let nats: NatsConnection;

beforeAll(async () => {
  redis = new Redis(redisUrl);
  nats = await connect({ servers: natsUrl });
});
afterAll(async () => {
  await redis.quit();
  await nats.close();
});

const brokers: [
  string,
  (namespace: string) => Record<string, unknown>,
  (namespace: string) => Promise<void>,
][] = [
  [
    'redis-streams',
    (namespace) => ({ type: 'redis-streams', url: redisUrl, prefix: namespace, block: '500ms' }),
    async (namespace) => {
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length > 0) await redis.del(...keys);
    },
  ],
  [
    'nats',
    (namespace) => ({ type: 'nats', url: natsUrl, stream: namespace, pullExpires: '1s' }),
    async (namespace) => {
      const jsm = await nats.jetstreamManager();
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(namespace)) await jsm.streams.delete(name);
      }
    },
  ],
];

describe.each(brokers)('two replicas of one service on %s', (_broker, section, cleanUp) => {
  it('handle each event once between them, and both get some', async () => {
    handledBy.clear();
    const namespace = `REPLICAS${Date.now().toString(36).toUpperCase()}${counter++}`;
    const topology = {
      app: 'replicas',
      rpc: { type: 'http' },
      auth: 'none',
      events: section(namespace),
      processes: {
        orders: { services: ['orders'] },
        billing: {
          services: ['billing'],
          addresses: [`http://127.0.0.1:${await getFreePort()}`, `http://127.0.0.1:${await getFreePort()}`],
        },
      },
    };
    const appWith = (replica: string): AppDefinition =>
      defineApp({
        name: 'replicas',
        services: [service(Orders, OrdersService), service(Billing, billingClass(replica))],
        plugins: [eventsPlugin()],
      });
    const started: { stop(): Promise<void> }[] = [];
    try {
      for (const [index, replica] of ['a', 'b'].entries()) {
        const app = await createApp(appWith(replica), {
          topology,
          process: 'billing',
          replica: index,
          logDestination: quiet,
        });
        await app.start();
        started.push(app);
      }
      const publisher = await createApp(appWith('publisher'), {
        topology,
        process: 'orders',
        logDestination: quiet,
      });
      await publisher.start();
      started.push(publisher);
      const bus = publisher.resolve<EventBus>(EventsTokens.Bus);
      const total = 60;
      for (let n = 0; n < total; n++) await bus.publish(OrderPlaced, { n });

      await waitFor(() => handledBy.size === total, { timeout: 15_000, message: `${total} events handled` });
      const all = [...handledBy.values()];
      expect(all.every((seen) => seen.length === 1)).toBe(true);
      expect(new Set(all.flat().map((seen) => seen.split('@')[1]))).toEqual(new Set(['billing']));
      const byReplica = (replica: string) => all.filter((seen) => seen[0]?.startsWith(`${replica}@`)).length;
      expect(byReplica('a') + byReplica('b')).toBe(total);
      expect(byReplica('a')).toBeGreaterThan(0);
      expect(byReplica('b')).toBeGreaterThan(0);
    } finally {
      for (const app of started.reverse()) await app.stop();
      await cleanUp(namespace);
    }
  }, 30_000);
});
