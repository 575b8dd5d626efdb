import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { alwaysFails } from '../../../../../test/harness/handlers.js';
import { defineEvent } from '../../define-event.js';
import { createEventBus, type EventBus } from '../../event-bus.js';
import { createMemoryBroker, createMemoryTransport } from './index.js';

const Tick = defineEvent('tick', z.object({ n: z.number(), items: z.array(z.string()).optional() }));
const flush = () => vi.advanceTimersByTimeAsync(0);

let buses: EventBus[] = [];
const bus = (options: Parameters<typeof createMemoryTransport>[0] = {}, extra = {}) => {
  const created = createEventBus({ transport: createMemoryTransport(options), ...extra });
  buses.push(created);
  return created;
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(buses.map((b) => b.stop()));
  buses = [];
});

describe('memory transport', () => {
  it('waits the backoff between attempts, growing exponentially, and never retries at once', async () => {
    const b = bus();
    const times: number[] = [];
    await b.subscribe(
      Tick,
      () => {
        times.push(Date.now());
        throw new Error('down');
      },
      { group: 'g', maxAttempts: 4, backoff: { initial: 100, factor: 3, jitter: 0 } },
    );
    const start = Date.now();
    await b.publish(Tick, { n: 1 });
    await flush();
    expect(times).toEqual([start]);
    await vi.advanceTimersByTimeAsync(99);
    expect(times).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(times).toEqual([start, start + 100]);
    await vi.advanceTimersByTimeAsync(300);
    await vi.advanceTimersByTimeAsync(900);
    expect(times.map((t) => t - start)).toEqual([0, 100, 400, 1300]);
    const [letter] = await b.deadLetters.list();
    expect(letter).toMatchObject({
      attempts: 4,
      reason: { kind: 'max-attempts', message: expect.stringContaining('down') },
    });
  });

  it('fails a publish with EVENTS_QUEUE_FULL when a group queue is full and onFull is "fail"', async () => {
    const b = bus({ maxQueue: 2, onFull: 'fail' }, { groups: [{ event: Tick.name, group: 'slow' }] });
    await b.publish(Tick, { n: 1 });
    await b.publish(Tick, { n: 2 });
    const error = await b.publish(Tick, { n: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EVENTS_QUEUE_FULL', details: { event: 'tick', maxQueue: 2 } });
    expect((error as Error).message).toContain('group "slow"');
    await expect(b.publishMany(Tick, [{ n: 4 }, { n: 5 }, { n: 6 }])).rejects.toMatchObject({
      code: 'EVENTS_QUEUE_FULL',
    });
    expect(b.stats()).toMatchObject({ published: 2, publishFailed: 2, transport: { queued: 2 } });
  });

  it('makes a publish wait for room in order, and time out when none comes', async () => {
    const b = bus({ maxQueue: 1, publishTimeout: 1_000 });
    const handled: number[] = [];
    const gates: (() => void)[] = [];
    let open = false;
    await b.subscribe(
      Tick,
      (p) =>
        new Promise<void>((resolve) => {
          handled.push(p.n);
          if (open) resolve();
          else gates.push(resolve);
        }),
      { group: 'g', concurrency: 1 },
    );
    await b.publish(Tick, { n: 1 });
    await flush();
    await b.publish(Tick, { n: 2 });
    const order: number[] = [];
    const third = b.publish(Tick, { n: 3 }).then(() => order.push(3));
    const fourth = b.publish(Tick, { n: 4 }).then(
      () => order.push(4),
      (error: unknown) => error,
    );
    await flush();
    expect(order).toEqual([]);
    gates.shift()!();
    await flush();
    expect(handled).toEqual([1, 2]);
    expect(order).toEqual([3]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await fourth).toMatchObject({ code: 'EVENTS_PUBLISH_TIMEOUT', details: { maybeStored: false } });
    await third;
    expect(b.stats().transport.waitingPublishers).toBe(0);
    open = true;
    for (const release of gates.splice(0)) release();
  });

  it('gives every group its own copy with serialize, and shares the parsed payload without', async () => {
    for (const serialize of [true, false]) {
      const b = bus({ serialize });
      const seen: unknown[] = [];
      await b.subscribe(
        Tick,
        (p) => {
          seen.push(p);
          p.items?.push('mutated');
        },
        { group: 'a' },
      );
      await b.subscribe(Tick, (p) => void seen.push(p), { group: 'b' });
      await b.publish(Tick, { n: 1, items: ['x'] });
      await flush();
      expect(seen).toHaveLength(2);
      expect(seen[0] === seen[1]).toBe(!serialize);
      expect((seen[1] as { items: string[] }).items).toEqual(serialize ? ['x'] : ['x', 'mutated']);
    }
  });

  it('counts events published to no group', async () => {
    const b = bus();
    await b.publish(Tick, { n: 1 });
    expect(b.stats().transport.unrouted).toBe(1);
  });

  it('abandons a handler that outlives the drain timeout; another replica gets it, and dead-letters it past maxAttempts', async () => {
    const broker = createMemoryBroker();
    const stuck = createEventBus({ transport: createMemoryTransport({}, { broker }), drainTimeout: 500 });
    const errors: unknown[] = [];
    await stuck.subscribe(Tick, () => new Promise(() => undefined), { group: 'g' });
    await stuck.publish(Tick, { n: 1 });
    await flush();
    const stopping = stuck.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    const replica = createEventBus({
      transport: createMemoryTransport({}, { broker }),
      onError: (error) => errors.push(error),
    });
    buses.push(replica);
    let calls = 0;
    await replica.subscribe(Tick, () => void calls++, { group: 'g', maxAttempts: 1 });
    await flush();
    expect(calls).toBe(0);
    const [letter] = await replica.deadLetters.list();
    expect(letter).toMatchObject({ attempts: 2, reason: { kind: 'redelivery-limit' } });
    broker.close();
  });

  it('clears retry timers on stop, so nothing keeps the process alive', async () => {
    const b = bus();
    await b.subscribe(Tick, alwaysFails('again'), { group: 'g', backoff: [60_000] });
    await b.publish(Tick, { n: 1 });
    await flush();
    expect(b.stats().transport.retries).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    await b.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
