/**
 * Event schema skew, as a rolling update meets it: buses with different schemas of `order.placed` v1
 * publish to and consume from one broker — two buses on the memory transport, and on real Redis Streams.
 * A compatible change (a new optional field) is handled both ways; an incompatible one is dead-lettered
 * at once as `CONTRACT_MISMATCH` naming both schemas and the difference, never handed to the handler, and
 * events of the group's own schema go on being handled.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../test/harness/index.js';
import {
  createEventBus,
  type DeadLetter,
  defineEvent,
  type EventBus,
  eventFingerprint,
} from '../../src/index.js';
import type { EventTransport } from '../../src/transport/index.js';
import {
  createMemoryBroker,
  createMemoryTransport,
  type MemoryBroker,
} from '../../src/transports/memory/index.js';
import { createRedisStreamsTransport } from '../../src/transports/redis-streams/index.js';

/** What the old processes were built with. */
const OrderPlaced = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), totalCents: z.number().int() }),
);
/** Compatible: a new optional field. */
const WithCoupon = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), totalCents: z.number().int(), coupon: z.string().optional() }),
);
/** Incompatible: the total became a string, and a region is required. */
const Reworked = defineEvent(
  'order.placed',
  z.object({ orderId: z.string(), totalCents: z.string(), region: z.string() }),
);

const url = inject('redisUrl');
const admin = new Redis(url, { lazyConnect: true });
let counter = 0;
let prefix = '';
let memory: MemoryBroker | undefined;
const buses: EventBus[] = [];

const brokers: Record<string, { fresh(): void; transport(): EventTransport }> = {
  memory: {
    fresh() {
      memory = createMemoryBroker();
    },
    transport: () => createMemoryTransport({}, { broker: memory! }),
  },
  'redis-streams': {
    fresh() {
      prefix = `skew${Date.now().toString(36)}${counter++}`;
    },
    transport: () =>
      createRedisStreamsTransport({ url, prefix, block: 500, claimInterval: 200, visibilityTimeout: 1_000 }),
  },
};

afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
  memory?.close();
  memory = undefined;
  if (prefix !== '') {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    prefix = '';
  }
});
afterAll(async () => {
  await admin.quit();
});

describe.each(Object.keys(brokers))('event schemas of one version on %s', (name) => {
  const broker = brokers[name]!;
  const bus = () => {
    const made = createEventBus({ transport: broker.transport(), drainTimeout: 2_000 });
    buses.push(made);
    return made;
  };
  const deadLetters = async (consumer: EventBus, count: number): Promise<DeadLetter[]> => {
    await waitFor(async () => (await consumer.deadLetters.list()).length >= count, {
      message: `${count} dead letter(s)`,
    });
    return consumer.deadLetters.list();
  };

  it('handles a new optional field both ways: old consumers of new events, new consumers of old ones', async () => {
    broker.fresh();
    const old = bus();
    const updated = bus();
    const seen: string[] = [];
    await old.subscribe(OrderPlaced, (order) => void seen.push(`old:${JSON.stringify(order)}`), {
      group: 'billing',
    });
    await updated.subscribe(WithCoupon, (order) => void seen.push(`new:${JSON.stringify(order)}`), {
      group: 'shipping',
    });
    await bus().publish(WithCoupon, { orderId: 'o1', totalCents: 100, coupon: 'SPRING' });
    await bus().publish(OrderPlaced, { orderId: 'o2', totalCents: 200 });
    await waitFor(() => seen.length === 4, { message: 'four handled events' });
    expect(seen.sort()).toEqual([
      'new:{"orderId":"o1","totalCents":100,"coupon":"SPRING"}',
      'new:{"orderId":"o2","totalCents":200}',
      'old:{"orderId":"o1","totalCents":100}',
      'old:{"orderId":"o2","totalCents":200}',
    ]);
    expect(await old.deadLetters.list()).toEqual([]);
  });

  it('dead-letters an incompatible event at once as CONTRACT_MISMATCH naming both schemas, and goes on handling its own', async () => {
    broker.fresh();
    const old = bus();
    const handled: string[] = [];
    await old.subscribe(OrderPlaced, (order) => void handled.push(order.orderId), {
      group: 'billing',
      maxAttempts: 3,
    });
    const id = await bus().publish(Reworked, { orderId: 'o1', totalCents: '1.00', region: 'eu' });
    await bus().publish(OrderPlaced, { orderId: 'o2', totalCents: 200 });

    const [letter] = await deadLetters(old, 1);
    await waitFor(() => handled.length === 1, { message: 'the compatible event to be handled' });
    expect(handled).toEqual(['o2']);
    const publisher = { version: 1, fingerprint: eventFingerprint(Reworked) };
    const consumer = { version: 1, fingerprint: eventFingerprint(OrderPlaced) };
    expect(letter).toMatchObject({ eventId: id, group: 'billing', attempts: 1 });
    expect(letter!.reason).toEqual({
      kind: 'contract-mismatch',
      code: 'CONTRACT_MISMATCH',
      message: `event "order.placed" ${id} was published with order.placed v1 (${publisher.fingerprint}) and group "billing" handles v1 (${consumer.fingerprint}), and they are incompatible: order.placed payload.totalCents: the publisher sends string, the other side takes integer; it is not retried: finish the rolling update (or deploy a schema compatible with both), then replay it`,
      details: {
        event: 'order.placed',
        group: 'billing',
        publisher,
        consumer,
        differences: [
          'order.placed payload.totalCents: the publisher sends string, the other side takes integer',
        ],
      },
    });
    const stats = old.stats().subscriptions.find((s) => s.group === 'billing')!;
    expect(stats).toMatchObject({ handled: 1, deadLettered: 1, retried: 0, failed: 0 });
  });

  it('dead-letters, in an updated consumer, an old event without the field it now requires', async () => {
    broker.fresh();
    const updated = bus();
    const handled: unknown[] = [];
    await updated.subscribe(Reworked, (order) => void handled.push(order), { group: 'billing' });
    await bus().publish(OrderPlaced, { orderId: 'o1', totalCents: 100 });
    const [letter] = await deadLetters(updated, 1);
    expect(letter!.reason.code).toBe('CONTRACT_MISMATCH');
    expect((letter!.reason.details as { differences: string[] }).differences).toEqual([
      'order.placed payload.totalCents: the publisher sends integer, the other side takes string',
      'order.placed payload.region: the consumer requires it, the publisher does not send it',
    ]);
    expect(handled).toEqual([]);
  });
});
