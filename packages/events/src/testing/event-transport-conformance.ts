/**
 * The event transport conformance suite: the delivery rules every transport keeps, checked through the
 * bus against a real broker. Call {@link describeEventTransportConformance} inside a vitest test file.
 */
import { BlueprintError } from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { createEventBus, type EventBus, type EventBusOptions } from '../event-bus.js';
import type { EventMeta } from '../handler.js';
import type { EventTransport } from '../transport/event-transport.js';

/** How the suite makes transports. */
export interface EventTransportConformanceOptions {
  /**
   * Creates a transport on the broker namespace `namespace` (a key prefix, a stream name prefix, a
   * shared in-memory broker). The suite calls it several times per test, with the same namespace, to
   * make publishers and replicas that share one broker; each test gets a fresh namespace.
   * Use short timings (claim intervals, visibility timeouts of a second or less).
   */
  createTransport(namespace: string): EventTransport | Promise<EventTransport>;
  /** Removes what a test left on the broker. Called after each test. */
  cleanup?(namespace: string): Promise<void>;
  /**
   * True when the transport drops a second publish of an event id at publish time (NATS message-id
   * deduplication), so the inbox never sees it. Default: false.
   */
  readonly dedupesPublishedIds?: boolean;
  /** How long the suite waits for a delivery, in ms. Default: 5,000. */
  readonly timeout?: number;
}

const Ping = defineEvent(
  'conformance.ping',
  z.object({
    n: z.number().int().min(0),
    at: z.date(),
    big: z.bigint().optional(),
    tags: z.set(z.string()).optional(),
  }),
);
/** The same event as a careless publisher defines it: it lets through what consumers refuse. */
const LoosePing = defineEvent('conformance.ping', z.object({ n: z.number(), at: z.date() }));
const PingV2 = defineEvent('conformance.ping', z.object({ n: z.number(), label: z.string() }), {
  version: 2,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Registers the conformance tests for a transport.
 *
 * @example
 * describeEventTransportConformance('redis-streams', {
 *   createTransport: (ns) => createRedisStreamsTransport({ url, prefix: ns, visibilityTimeout: 1000, claimInterval: 200 }),
 * });
 */
export function describeEventTransportConformance(
  name: string,
  harness: EventTransportConformanceOptions,
): void {
  const timeout = harness.timeout ?? 5_000;

  describe(`event transport conformance: ${name}`, () => {
    let namespace = '';
    let buses: EventBus[] = [];
    let counter = 0;

    const newBus = async (options: Partial<EventBusOptions> = {}): Promise<EventBus> => {
      if (namespace === '')
        namespace = `c${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
      const bus = createEventBus({
        transport: await harness.createTransport(namespace),
        drainTimeout: 3_000,
        ...options,
      });
      buses.push(bus);
      return bus;
    };
    /** How long to wait for what. */
    const until = (message: string) => ({ timeout, message });
    const ping = (n: number) => ({ n, at: new Date(1_700_000_000_000 + n) });

    afterEach(async () => {
      const stopping = buses.map((b) => b.stop().catch(() => undefined));
      await Promise.all(stopping);
      if (namespace !== '') await harness.cleanup?.(namespace);
      buses = [];
      namespace = '';
    });

    it('delivers every event to every group, once, with its envelope', async () => {
      const consumer = await newBus();
      const seen: Record<string, { payload: z.output<typeof Ping.schema>; meta: EventMeta }[]> = {
        a: [],
        b: [],
      };
      await consumer.subscribe(Ping, (payload, meta) => void seen.a!.push({ payload, meta }), { group: 'a' });
      await consumer.subscribe(Ping, (payload, meta) => void seen.b!.push({ payload, meta }), { group: 'b' });
      const publisher = await newBus();
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        ids.push(
          await publisher.publish(
            Ping,
            { ...ping(n), big: 2n ** 70n, tags: new Set(['x']) },
            { key: `k${n}`, headers: { 'x-correlation-id': `c${n}`, traceparent: '00-abc-def-01' } },
          ),
        );
      }
      await waitFor(
        () => seen.a!.length >= 5 && seen.b!.length >= 5,
        until('both groups to receive 5 events'),
      );
      await sleep(100);
      for (const group of ['a', 'b']) {
        const received = seen[group]!;
        expect(received.map((r) => r.meta.id).sort()).toEqual([...ids].sort());
        const first = received.find((r) => r.payload.n === 0)!;
        expect(first.payload.at).toBeInstanceOf(Date);
        expect(first.payload.at.getTime()).toBe(1_700_000_000_000);
        expect(first.payload.big).toBe(2n ** 70n);
        expect(first.payload.tags).toEqual(new Set(['x']));
        expect(first.meta).toMatchObject({
          name: 'conformance.ping',
          version: 1,
          key: 'k0',
          attempt: 1,
          group,
          headers: { 'x-correlation-id': 'c0', traceparent: '00-abc-def-01' },
        });
        expect(first.meta.occurredAt).toBeInstanceOf(Date);
      }
      expect(publisher.stats().published).toBe(5);
    });

    it('rejects an invalid payload at publish and stores nothing', async () => {
      const consumer = await newBus();
      const seen: number[] = [];
      await consumer.subscribe(Ping, (p) => void seen.push(p.n), { group: 'a' });
      const publisher = await newBus();
      const error = await publisher.publish(Ping, { n: -1, at: new Date() }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: { where: 'payload' } });
      await publisher.publish(Ping, ping(7));
      await waitFor(() => seen.length === 1, until('the valid event'));
      await sleep(100);
      expect(seen).toEqual([7]);
    });

    it('lets replicas of a group share its events, each handled once', async () => {
      const handled: string[] = [];
      const replicas = [await newBus(), await newBus()];
      for (const replica of replicas) {
        await replica.subscribe(Ping, (_p, meta) => void handled.push(meta.id), {
          group: 'workers',
          concurrency: 4,
        });
      }
      const publisher = await newBus();
      const ids = await publisher.publishMany(
        Ping,
        Array.from({ length: 40 }, (_, n) => ping(n)),
      );
      await waitFor(() => handled.length >= 40, until('40 events handled'));
      await sleep(150);
      expect([...handled].sort()).toEqual([...ids].sort());
    });

    it('delivers events published before the consumer subscribes to a declared group', async () => {
      const publisher = await newBus({ groups: [{ event: Ping.name, group: 'late' }] });
      await publisher.connect();
      const ids = [await publisher.publish(Ping, ping(1)), await publisher.publish(Ping, ping(2))];
      const consumer = await newBus();
      const seen: string[] = [];
      await consumer.subscribe(Ping, (_p, meta) => void seen.push(meta.id), { group: 'late' });
      await waitFor(() => seen.length === 2, until('the two earlier events'));
      expect(seen.sort()).toEqual(ids.sort());
    });

    it('retries a failing handler after its backoff, never at once', async () => {
      const consumer = await newBus();
      const attempts: { attempt: number; at: number }[] = [];
      await consumer.subscribe(
        Ping,
        (_p, meta) => {
          attempts.push({ attempt: meta.attempt, at: Date.now() });
          if (meta.attempt < 3) throw new Error(`fail #${meta.attempt}`);
        },
        { group: 'a', backoff: [200], maxAttempts: 5 },
      );
      const publisher = await newBus();
      await publisher.publish(Ping, ping(1));
      await waitFor(
        () => consumer.stats().subscriptions[0]!.handled === 1,
        until('the third attempt to succeed'),
      );
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(190);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(190);
      expect(consumer.stats().subscriptions[0]).toMatchObject({
        failed: 2,
        retried: 2,
        handled: 1,
        deadLettered: 0,
      });
    });

    it('dead-letters a poison event after maxAttempts without blocking the events behind it', async () => {
      const consumer = await newBus();
      const good: number[] = [];
      let poisonCalls = 0;
      await consumer.subscribe(
        Ping,
        (p) => {
          if (p.n === 0) {
            poisonCalls++;
            throw new BlueprintError('POISON', `cannot handle ${p.n}`, { details: { n: p.n } });
          }
          good.push(p.n);
        },
        { group: 'a', concurrency: 1, maxAttempts: 3, backoff: [100] },
      );
      const publisher = await newBus();
      const poisonId = await publisher.publish(Ping, ping(0));
      for (let n = 1; n <= 5; n++) await publisher.publish(Ping, ping(n));
      await waitFor(() => good.length === 5, until('the events behind the poison'));
      await waitFor(
        async () => (await consumer.deadLetters.list({ group: 'a' })).length === 1,
        until('the dead letter'),
      );
      expect(poisonCalls).toBe(3);
      const [letter] = await consumer.deadLetters.list({ group: 'a' });
      expect(letter).toMatchObject({
        id: `a:conformance.ping:${poisonId}`,
        group: 'a',
        event: 'conformance.ping',
        eventId: poisonId,
        attempts: 3,
        reason: { kind: 'max-attempts', code: 'POISON', details: { n: 0 } },
      });
      expect(letter!.reason.message).toContain('cannot handle 0');
      expect(letter!.envelope?.id).toBe(poisonId);
      expect(letter!.deadAt).toBeInstanceOf(Date);
      expect(await consumer.deadLetters.list({ event: 'other.event' })).toEqual([]);
      expect(await consumer.deadLetters.get(letter!.id)).toMatchObject({ eventId: poisonId });
      expect(consumer.stats().subscriptions[0]).toMatchObject({ deadLettered: 1, failed: 3, retried: 2 });
    });

    it('keeps a dead letter even when the last error has details the codec refuses', async () => {
      const consumer = await newBus();
      await consumer.subscribe(
        Ping,
        () => {
          throw new BlueprintError('ODD', 'odd details', { details: { $bp: 'reserved key' } });
        },
        { group: 'a', maxAttempts: 1 },
      );
      const publisher = await newBus();
      const id = await publisher.publish(Ping, ping(1));
      await waitFor(async () => (await consumer.deadLetters.list()).length === 1, until('the dead letter'));
      const [letter] = await consumer.deadLetters.list();
      expect(letter).toMatchObject({ eventId: id, reason: { kind: 'max-attempts', code: 'ODD' } });
      expect(letter!.reason.details).toBeUndefined();
    });

    it('replays a dead letter to its group only, and discards one', async () => {
      const consumer = await newBus();
      let healthy = false;
      const a: string[] = [];
      const b: string[] = [];
      await consumer.subscribe(
        Ping,
        (_p, meta) => {
          if (!healthy) throw new Error('down');
          a.push(`${meta.id}#${meta.attempt}`);
        },
        { group: 'a', maxAttempts: 1 },
      );
      await consumer.subscribe(Ping, (_p, meta) => void b.push(meta.id), { group: 'b' });
      const publisher = await newBus();
      const first = await publisher.publish(Ping, ping(1));
      const second = await publisher.publish(Ping, ping(2));
      await waitFor(
        async () => (await consumer.deadLetters.list({ group: 'a' })).length === 2,
        until('two dead letters'),
      );
      await waitFor(() => b.length === 2, until('group b to handle both'));
      healthy = true;
      await consumer.deadLetters.replay(`a:conformance.ping:${first}`);
      await waitFor(() => a.length === 1, until('the replayed event'));
      expect(a).toEqual([`${first}#1`]);
      await consumer.deadLetters.discard(`a:conformance.ping:${second}`);
      expect(await consumer.deadLetters.list()).toEqual([]);
      await expect(consumer.deadLetters.replay(`a:conformance.ping:${first}`)).rejects.toMatchObject({
        code: 'EVENTS_DEAD_LETTER_NOT_FOUND',
      });
      await expect(consumer.deadLetters.discard(`a:conformance.ping:${second}`)).rejects.toMatchObject({
        code: 'EVENTS_DEAD_LETTER_NOT_FOUND',
      });
      await sleep(200);
      expect(b.sort()).toEqual([first, second].sort());
      expect(a).toHaveLength(1);
    });

    it('dead-letters a payload that fails the consumer schema on the first attempt', async () => {
      const consumer = await newBus();
      let calls = 0;
      await consumer.subscribe(Ping, () => void calls++, { group: 'a', maxAttempts: 5 });
      const publisher = await newBus();
      const id = await publisher.publish(LoosePing, { n: -5, at: new Date() });
      await waitFor(async () => (await consumer.deadLetters.list()).length === 1, until('the dead letter'));
      const [letter] = await consumer.deadLetters.list();
      expect(letter).toMatchObject({
        eventId: id,
        attempts: 1,
        reason: { kind: 'invalid-payload', code: 'VALIDATION_FAILED', details: { where: 'payload' } },
      });
      expect(letter!.reason.message).toContain('n');
      expect(calls).toBe(0);
    });

    it('dead-letters an unknown version on the first attempt and handles the versions it knows', async () => {
      const v1Only = await newBus();
      const both = await newBus();
      const seen: string[] = [];
      await v1Only.subscribe(Ping, () => void seen.push('v1-only'), { group: 'old' });
      await both.subscribe(
        [Ping, PingV2],
        (payload, meta) => void seen.push(`both:v${meta.version}:${(payload as { n: number }).n}`),
        { group: 'new' },
      );
      const publisher = await newBus();
      const id = await publisher.publish(PingV2, { n: 9, label: 'x' });
      await publisher.publish(Ping, ping(3));
      await waitFor(
        async () => (await v1Only.deadLetters.list({ group: 'old' })).length === 1,
        until('the dead letter'),
      );
      await waitFor(() => seen.length === 3, until('three handled events'));
      const [letter] = await v1Only.deadLetters.list({ group: 'old' });
      expect(letter).toMatchObject({ eventId: id, attempts: 1, reason: { kind: 'unknown-version' } });
      expect(seen.sort()).toEqual(['both:v1:3', 'both:v2:9', 'v1-only']);
    });

    it('runs a handler once per event id with the inbox, and counts duplicates', async () => {
      const consumer = await newBus();
      const runs: string[] = [];
      await consumer.subscribe(Ping, (_p, meta) => void runs.push(meta.id), { group: 'a', inbox: true });
      const publisher = await newBus();
      await publisher.publish(Ping, ping(1), { id: 'order-1' });
      await waitFor(() => runs.length === 1, until('the first copy'));
      await publisher.publish(Ping, ping(1), { id: 'order-1' });
      await publisher.publish(Ping, ping(2), { id: 'order-2' });
      await waitFor(() => runs.length === 2, until('the second event'));
      const stats = consumer.stats().subscriptions[0]!;
      if (!harness.dedupesPublishedIds) {
        await waitFor(
          () => consumer.stats().subscriptions[0]!.duplicates === 1,
          until('the duplicate to be counted'),
        );
      }
      await sleep(100);
      expect(runs).toEqual(['order-1', 'order-2']);
      expect(stats.handled).toBe(2);
    });

    it('stops taking events on stop(), lets running handlers finish and acks them', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = await newBus();
      const firstSeen: number[] = [];
      await first.subscribe(
        Ping,
        async (p) => {
          firstSeen.push(p.n);
          await gate;
        },
        { group: 'a', concurrency: 1 },
      );
      const publisher = await newBus();
      await publisher.publish(Ping, ping(1));
      await waitFor(() => firstSeen.length === 1, until('the first handler to start'));
      const stopped = first.stop();
      await sleep(50);
      await publisher.publish(Ping, ping(2));
      await sleep(50);
      release();
      await stopped;
      expect(firstSeen).toEqual([1]);
      expect(first.stats().subscriptions).toEqual([]);
      const second = await newBus();
      const secondSeen: number[] = [];
      await second.subscribe(Ping, (p) => void secondSeen.push(p.n), { group: 'a' });
      await waitFor(() => secondSeen.length >= 1, until('the event left by the stopped replica'));
      await sleep(300);
      expect(secondSeen).toEqual([2]);
    });

    it('never runs more than `concurrency` handlers at once', async () => {
      const consumer = await newBus();
      let running = 0;
      let peak = 0;
      let done = 0;
      await consumer.subscribe(
        Ping,
        async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(20);
          running--;
          done++;
        },
        { group: 'a', concurrency: 3 },
      );
      const publisher = await newBus();
      await publisher.publishMany(
        Ping,
        Array.from({ length: 12 }, (_, n) => ping(n)),
      );
      await waitFor(() => done === 12, until('12 events handled'));
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1);
    });

    it('reports the events a group has not settled (its lag), when it implements pending()', async () => {
      const consumer = await newBus();
      const { transport } = consumer;
      if (transport.pending === undefined) return;
      const binding = { event: Ping.name, group: 'lag' };
      const waiting: (() => void)[] = [];
      await consumer.subscribe(Ping, () => new Promise<void>((resolve) => waiting.push(resolve)), {
        group: 'lag',
        concurrency: 1,
      });
      const publisher = await newBus();
      await publisher.publishMany(Ping, [ping(1), ping(2), ping(3)]);
      await waitFor(() => waiting.length === 1, until('the first event to reach the handler'));
      await waitFor(async () => (await transport.pending!(binding)) === 3, until('3 events pending'));
      waiting[0]!();
      await waitFor(() => waiting.length === 2, until('the second event to reach the handler'));
      await waitFor(async () => (await transport.pending!(binding)) === 2, until('2 events pending'));
      waiting[1]!();
      await waitFor(() => waiting.length === 3, until('the third event to reach the handler'));
      waiting[2]!();
      await waitFor(async () => (await transport.pending!(binding)) === 0, until('no event pending'));
    });

    it('publishMany validates every payload first and stores nothing when one fails', async () => {
      const consumer = await newBus();
      const seen: number[] = [];
      await consumer.subscribe(Ping, (p) => void seen.push(p.n), { group: 'a' });
      const publisher = await newBus();
      await expect(publisher.publishMany(Ping, [ping(1), { n: -1, at: new Date() }])).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      const ids = await publisher.publishMany(Ping, [ping(4), ping(5)], { ids: ['batch-4', 'batch-5'] });
      expect(ids).toEqual(['batch-4', 'batch-5']);
      await waitFor(() => seen.length === 2, until('the valid batch'));
      await sleep(100);
      expect(seen.sort()).toEqual([4, 5]);
    });

    it('reports health, and refuses to publish once stopped', async () => {
      const bus = await newBus();
      await bus.connect();
      expect((await bus.health()).ok).toBe(true);
      await bus.stop();
      expect((await bus.health()).ok).toBe(false);
      await expect(bus.publish(Ping, ping(1))).rejects.toMatchObject({ code: 'EVENTS_BUS_CLOSED' });
    });
  });
}
