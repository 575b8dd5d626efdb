/**
 * Behaviour specific to the redis-streams transport, on the shared Redis of the integration run.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { alwaysFails } from '../../../../test/harness/handlers.js';
import { waitFor } from '../../../../test/harness/index.js';
import { createEventBus, defineEvent, type EventBus } from '../../src/index.js';
import {
  createRedisStreamsTransport,
  type RedisStreamsTransportOptions,
} from '../../src/transports/redis-streams/index.js';

const url = inject('redisUrl');
const admin = new Redis(url);
const Order = defineEvent('order.placed', z.object({ n: z.number() }));
const Refund = defineEvent('refund.issued', z.object({ n: z.number() }));

let prefix = '';
let buses: EventBus[] = [];
let counter = 0;

function bus(options: Partial<RedisStreamsTransportOptions> = {}, drainTimeout = 2_000): EventBus {
  const created = createEventBus({
    transport: createRedisStreamsTransport({
      url,
      prefix,
      claimInterval: 100,
      visibilityTimeout: 600,
      block: 1_000,
      ...options,
    }),
    drainTimeout,
  });
  buses.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(buses.map((b) => b.stop().catch(() => undefined)));
  buses = [];
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
});
afterAll(async () => {
  await admin.quit();
});

const fresh = () => {
  prefix = `rs${Date.now().toString(36)}${counter++}`;
};

describe('redis-streams transport', () => {
  it('dead-letters entries that cannot be decoded, keeping their text', async () => {
    fresh();
    const consumer = bus();
    let calls = 0;
    await consumer.subscribe(Order, () => void calls++, { group: 'billing' });
    const stream = `${prefix}:{order.placed}`;
    await admin.xadd(stream, '*', 'e', 'not json at all');
    await admin.xadd(
      stream,
      '*',
      'e',
      '{"id":"evil","name":"order.placed","version":1,"occurredAt":{"$bp":"date","v":"2025-01-01T00:00:00.000Z"},"headers":{},"payload":{"__proto__":{"admin":true}}}',
    );
    await admin.xadd(stream, '*', 'x', 'no e field');
    await waitFor(async () => (await consumer.deadLetters.list()).length === 3, {
      message: 'three dead letters',
    });
    const letters = await consumer.deadLetters.list({ group: 'billing' });
    expect(letters.map((l) => l.reason.kind)).toEqual(['malformed', 'malformed', 'malformed']);
    expect(letters.map((l) => l.raw)).toContain('not json at all');
    expect(letters.every((l) => l.envelope === undefined && l.attempts === 1)).toBe(true);
    expect(letters.find((l) => l.raw?.includes('__proto__'))?.reason.message).toMatch(/unsafe/);
    expect(calls).toBe(0);
  });

  it('dead-letters an event delivered more than maxAttempts times without settling', async () => {
    fresh();
    const stuck = bus({}, 200);
    await stuck.subscribe(Order, () => new Promise(() => undefined), { group: 'billing' });
    const publisher = bus();
    const id = await publisher.publish(Order, { n: 1 });
    await waitFor(() => stuck.stats().subscriptions[0]?.inFlight === 1, { message: 'the handler to hang' });
    await stuck.stop();
    const replica = bus();
    let calls = 0;
    await replica.subscribe(Order, () => void calls++, { group: 'billing', maxAttempts: 1 });
    await waitFor(async () => (await replica.deadLetters.list()).length === 1, {
      message: 'the dead letter',
    });
    const [letter] = await replica.deadLetters.list();
    expect(letter).toMatchObject({ eventId: id, attempts: 2, reason: { kind: 'redelivery-limit' } });
    expect(calls).toBe(0);
  });

  it('keeps a long-running handler’s entry from being claimed by another replica', async () => {
    fresh();
    const runs: string[] = [];
    const replicas = [bus(), bus()];
    for (const replica of replicas) {
      await replica.subscribe(
        Order,
        async (_p, meta) => {
          runs.push(`${meta.id}#${meta.attempt}`);
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        },
        { group: 'billing' },
      );
    }
    const publisher = bus();
    const id = await publisher.publish(Order, { n: 1 });
    await waitFor(() => replicas.some((r) => r.stats().subscriptions[0]!.handled === 1), { timeout: 5_000 });
    expect(runs).toEqual([`${id}#1`]);
    expect(replicas.map((r) => r.stats().transport.claimed)).toEqual([0, 0]);
  });

  it('stops at once, without waiting for a blocking read to time out', async () => {
    fresh();
    const consumer = bus({ block: 10_000 });
    await consumer.subscribe(Order, () => undefined, { group: 'billing' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('keeps a scheduled retry when its consumer stops: another replica takes it when due', async () => {
    fresh();
    const first = bus();
    await first.subscribe(Order, alwaysFails('not yet'), { group: 'billing', backoff: [400] });
    const publisher = bus();
    const id = await publisher.publish(Order, { n: 1 });
    await waitFor(() => first.stats().subscriptions[0]?.retried === 1, { message: 'the first failure' });
    await first.stop();
    const second = bus();
    const seen: string[] = [];
    await second.subscribe(Order, (_p, meta) => void seen.push(`${meta.id}#${meta.attempt}`), {
      group: 'billing',
    });
    await waitFor(() => seen.length === 1, { message: 'the retry' });
    expect(seen).toEqual([`${id}#2`]);
  });

  it('recreates a consumer group that vanished, and keeps delivering', async () => {
    fresh();
    const consumer = bus();
    const seen: number[] = [];
    await consumer.subscribe(Order, (p) => void seen.push(p.n), { group: 'billing' });
    const publisher = bus();
    await publisher.publish(Order, { n: 1 });
    await waitFor(() => seen.length === 1);
    await admin.xgroup('DESTROY', `${prefix}:{order.placed}`, 'billing');
    await publisher.publish(Order, { n: 2 });
    await waitFor(() => seen.includes(2), { message: 'delivery after the group was recreated' });
  });

  it('stores a publishMany batch larger than one script call', async () => {
    fresh();
    const consumer = bus();
    const seen = new Set<number>();
    await consumer.subscribe(Order, (p) => void seen.add(p.n), { group: 'billing', concurrency: 200 });
    const publisher = bus();
    const ids = await publisher.publishMany(
      Order,
      Array.from({ length: 2_500 }, (_, n) => ({ n })),
    );
    expect(new Set(ids).size).toBe(2_500);
    await waitFor(() => seen.size === 2_500, { timeout: 10_000, message: 'every event of the batch' });
    expect(await admin.xlen(`${prefix}:{order.placed}`)).toBe(2_500);
  });

  it('stores publishes made in one tick, in publish order, each resolving once stored', async () => {
    fresh();
    const publisher = bus();
    await publisher.connect();
    const published = Array.from({ length: 2_500 }, (_, n) =>
      publisher.publish(n % 2 === 0 ? Order : Refund, { n }),
    );
    const ids = await Promise.all(published);
    expect(new Set(ids).size).toBe(2_500);
    const read = async (event: string) =>
      (await admin.xrange(`${prefix}:{${event}}`, '-', '+')).map(([, fields]) => fields[1]!);
    const orders = await read('order.placed');
    const refunds = await read('refund.issued');
    expect(orders).toHaveLength(1_250);
    expect(refunds).toHaveLength(1_250);
    expect(orders.map((text) => (JSON.parse(text) as { payload: { n: number } }).payload.n)).toEqual(
      Array.from({ length: 1_250 }, (_, i) => i * 2),
    );
  });

  it('rejects every publish of a tick with a coded error when Redis is gone, and stores none', async () => {
    fresh();
    const publisher = bus({ publishTimeout: 500 });
    await publisher.connect();
    const transport = publisher.transport as unknown as { command(): Redis };
    const stored = transport.command();
    const published = Array.from({ length: 3 }, (_, n) => publisher.publish(Order, { n }));
    stored.disconnect();
    const results = await Promise.allSettled(published);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.code).toMatch(/^EVENTS_/);
    }
    expect(await admin.exists(`${prefix}:{order.placed}`)).toBe(0);
  });

  it('lists dead letters of every event, oldest first, and reports health', async () => {
    fresh();
    const consumer = bus();
    const fail = () => {
      throw new Error('no');
    };
    await consumer.subscribe(Order, fail, { group: 'billing', maxAttempts: 1 });
    await consumer.subscribe(Refund, fail, { group: 'billing', maxAttempts: 1 });
    const publisher = bus();
    await publisher.publish(Order, { n: 1 });
    await waitFor(async () => (await consumer.deadLetters.list()).length === 1);
    await publisher.publish(Refund, { n: 2 });
    await waitFor(async () => (await consumer.deadLetters.list()).length === 2);
    const letters = await consumer.deadLetters.list();
    expect(letters.map((l) => l.event)).toEqual(['order.placed', 'refund.issued']);
    expect(await consumer.deadLetters.list({ event: 'refund.issued' })).toHaveLength(1);
    expect(await consumer.deadLetters.list({ limit: 1 })).toHaveLength(1);
    expect(await consumer.deadLetters.get('billing:order.placed:nope')).toBeUndefined();
    expect(await consumer.deadLetters.get('not-an-id')).toBeUndefined();
    expect(await consumer.health()).toMatchObject({ ok: true, details: { status: 'ready', consumers: 2 } });
  });
});
