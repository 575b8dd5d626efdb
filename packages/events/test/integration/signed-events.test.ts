/**
 * Signed events: with `auth` in the topology, a bus signs what it publishes and dead-letters (reason
 * `signature`) what it receives without a valid signature — on Redis Streams, where anyone who can write
 * to the stream can add an entry, on NATS JetStream, and on the memory transport, which follows the same
 * rules.
 */
import {
  createApp,
  defineApp,
  defineService,
  inject as inject_,
  injectable,
  parseTopology,
  service,
} from '@blueprint/core';
import { messageSigner } from '@blueprint/core/plugin';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../test/harness/index.js';
import {
  createEventBus,
  type DeadLetter,
  defineEvent,
  type EventBus,
  EventsTokens,
  eventsPlugin,
  OnEvent,
  type PayloadOf,
} from '../../src/index.js';
import { createMemoryBroker, createMemoryTransport } from '../../src/transports/memory/index.js';
import { createNatsTransport } from '../../src/transports/nats/index.js';
import { createRedisStreamsTransport } from '../../src/transports/redis-streams/index.js';

const url = inject('redisUrl');
const admin = new Redis(url);
const SECRET = 'signed-events-secret-0123456789-abcdef';
const OTHER_SECRET = 'another-secret-that-is-long-enough-0123';
const PaymentSucceeded = defineEvent(
  'payment.succeeded',
  z.object({ orderId: z.string(), amountCents: z.number().int() }),
);

function signerOf(secret: string) {
  const topology = parseTopology({ app: 'signed', auth: { secret }, processes: { main: { services: [] } } });
  const signer = messageSigner(topology, 'events');
  if (signer === undefined) throw new Error('a topology with auth has an events signer');
  return signer;
}

let prefix = '';
let counter = 0;
let buses: EventBus[] = [];
const stops: (() => Promise<void>)[] = [];

function fresh(): string {
  prefix = `sig${Date.now().toString(36)}${counter++}`;
  return prefix;
}

function redisBus(secret: string | undefined): EventBus {
  const bus = createEventBus({
    transport: createRedisStreamsTransport({
      url,
      prefix,
      claimInterval: 100,
      visibilityTimeout: 600,
      block: 500,
    }),
    drainTimeout: 2_000,
    ...(secret === undefined ? {} : { signer: signerOf(secret) }),
  });
  buses.push(bus);
  return bus;
}

/** A `payment.succeeded` entry as an attacker would write it: a well-formed envelope, unsigned. */
function forgedEntry(id: string, orderId: string): string {
  return `{"id":"${id}","name":"payment.succeeded","version":1,"occurredAt":{"$bp":"date","v":"2026-01-01T00:00:00.000Z"},"headers":{},"payload":{"orderId":"${orderId}","amountCents":1}}`;
}

const stream = () => `${prefix}:{payment.succeeded}`;

/** Subscribes group `orders` of `consumer` to PaymentSucceeded; the order ids it handles, in order. */
async function ordersHandled(consumer: EventBus): Promise<string[]> {
  const handled: string[] = [];
  await consumer.subscribe(PaymentSucceeded, (payment) => void handled.push(payment.orderId), {
    group: 'orders',
  });
  return handled;
}

async function deadLettersOf(bus: EventBus, count: number): Promise<DeadLetter[]> {
  await waitFor(async () => (await bus.deadLetters.list()).length >= count, {
    message: `${count} dead letter(s)`,
  });
  return bus.deadLetters.list();
}

afterEach(async () => {
  await Promise.all(buses.map((b) => b.stop().catch(() => undefined)));
  buses = [];
  for (const stop of stops.splice(0)) await stop();
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
});
afterAll(async () => {
  await admin.quit();
});

describe('signed events on redis-streams', () => {
  it('dead-letters a forged payment.succeeded added straight to the stream, and handles a signed one', async () => {
    fresh();
    const consumer = redisBus(SECRET);
    const handled = await ordersHandled(consumer);
    await admin.xadd(stream(), '*', 'e', forgedEntry('forged-1', 'o-declined'));
    await redisBus(SECRET).publish(PaymentSucceeded, { orderId: 'o-real', amountCents: 4_200 });

    const [letter] = await deadLettersOf(consumer, 1);
    await waitFor(() => handled.includes('o-real'), { message: 'the signed event to be handled' });
    expect(letter?.reason.kind).toBe('signature');
    expect(letter?.reason.message).toContain('forged-1 is not signed');
    expect(letter?.reason.message).toContain("topology's auth secret");
    expect(letter?.eventId).not.toBe('forged-1');
    expect(letter?.attempts).toBe(1);
    expect(handled).toEqual(['o-real']);
    expect(consumer.stats().subscriptions.find((s) => s.group === 'orders')?.deadLettered).toBe(1);
  });

  it('dead-letters an entry signed with another secret, and one whose signed payload was changed', async () => {
    fresh();
    const consumer = redisBus(SECRET);
    const handled = await ordersHandled(consumer);
    await redisBus(OTHER_SECRET).publish(PaymentSucceeded, { orderId: 'o-other-secret', amountCents: 1 });
    const [letter] = await deadLettersOf(consumer, 1);
    expect(letter?.reason.kind).toBe('signature');
    expect(letter?.reason.message).toContain('has a wrong signature');

    // A signed entry copied with a changed payload keeps a signature that no longer covers it.
    const entries = (await admin.xrange(stream(), '-', '+')) as [string, string[]][];
    const signed = entries[0]![1][1]!;
    expect(signed).toContain('"signature":"');
    await admin.xadd(stream(), '*', 'e', signed.replace('o-other-secret', 'o-tampered'));
    const letters = await deadLettersOf(consumer, 2);
    expect(letters.map((l) => l.reason.kind)).toEqual(['signature', 'signature']);
    expect(letters[1]?.reason.message).toContain('has a wrong signature');
    expect(handled).toEqual([]);
  });

  it('refuses a replayed forged dead letter again', async () => {
    fresh();
    const consumer = redisBus(SECRET);
    let calls = 0;
    await consumer.subscribe(PaymentSucceeded, () => void calls++, { group: 'orders' });
    await admin.xadd(stream(), '*', 'e', forgedEntry('forged-2', 'o-1'));
    const [letter] = await deadLettersOf(consumer, 1);
    await consumer.deadLetters.replay(letter!.id);
    await waitFor(
      async () => (consumer.stats().subscriptions.find((s) => s.group === 'orders')?.deadLettered ?? 0) === 2,
      { message: 'the replayed entry to be refused again' },
    );
    expect((await consumer.deadLetters.list())[0]?.reason.kind).toBe('signature');
    expect(calls).toBe(0);
  });

  it('signs and checks through the plugin when the topology has auth', async () => {
    const appPrefix = fresh();
    const handled: string[] = [];
    const Orders = defineService('orders', {
      pay: { input: z.object({ orderId: z.string() }), output: z.void() },
    });
    @injectable()
    class OrdersService {
      constructor(@inject_(EventsTokens.Bus) private readonly bus: EventBus) {}
      async pay({ orderId }: { orderId: string }) {
        await this.bus.publish(PaymentSucceeded, { orderId, amountCents: 100 });
      }
      @OnEvent(PaymentSucceeded)
      onPaid(payment: PayloadOf<typeof PaymentSucceeded>) {
        handled.push(payment.orderId);
      }
    }
    const shop = await createApp(
      defineApp({ name: 'signed', services: [service(Orders, OrdersService)], plugins: [eventsPlugin()] }),
      {
        topology: {
          app: 'signed',
          auth: { secret: SECRET },
          events: { type: 'redis-streams', url, prefix: appPrefix, block: '500ms', claimInterval: '100ms' },
          processes: { main: { services: ['orders'] } },
        },
      },
    );
    await shop.start();
    stops.push(() => shop.stop());
    await admin.xadd(stream(), '*', 'e', forgedEntry('forged-3', 'o-forged'));
    await shop.client(Orders).pay({ orderId: 'o-paid' });
    const bus = shop.resolve(EventsTokens.Bus);
    const [letter] = await deadLettersOf(bus, 1);
    await waitFor(() => handled.includes('o-paid'), { message: 'the signed event to be handled' });
    expect(letter?.reason.kind).toBe('signature');
    expect(handled).toEqual(['o-paid']);
  });
});

describe('signed events on nats', () => {
  const natsUrl = inject('natsUrl');
  const streams: string[] = [];
  afterAll(async () => {
    const nats = await connect({ servers: natsUrl });
    const jsm = await nats.jetstreamManager();
    for await (const name of jsm.streams.names()) {
      if (streams.some((stream) => name.startsWith(stream))) await jsm.streams.delete(name);
    }
    await nats.close();
  });

  it('dead-letters what a bus without the secret or with another one publishes, and handles a signed event', async () => {
    const stream = `SIGNED${Date.now().toString(36).toUpperCase()}${counter++}`;
    streams.push(stream);
    const natsBus = (secret: string | undefined) => {
      const bus = createEventBus({
        transport: createNatsTransport({ url: natsUrl, stream, ackWait: 1_000, pullExpires: 1_000 }),
        drainTimeout: 2_000,
        ...(secret === undefined ? {} : { signer: signerOf(secret) }),
      });
      buses.push(bus);
      return bus;
    };
    const consumer = natsBus(SECRET);
    const handled = await ordersHandled(consumer);
    await natsBus(undefined).publish(PaymentSucceeded, { orderId: 'o-unsigned', amountCents: 1 });
    await natsBus(OTHER_SECRET).publish(PaymentSucceeded, { orderId: 'o-other-secret', amountCents: 1 });
    await natsBus(SECRET).publish(PaymentSucceeded, { orderId: 'o-real', amountCents: 1 });

    const letters = await deadLettersOf(consumer, 2);
    await waitFor(() => handled.includes('o-real'), { message: 'the signed event to be handled' });
    expect(letters.map((l) => l.reason.kind)).toEqual(['signature', 'signature']);
    expect(letters.map((l) => l.reason.message).join(' ')).toMatch(
      /is not signed.*has a wrong signature|has a wrong signature.*is not signed/,
    );
    expect(handled).toEqual(['o-real']);
  });
});

describe('signed events on the memory transport', () => {
  function memoryBuses(publisherSecret: string | undefined) {
    const broker = createMemoryBroker();
    const consumer = createEventBus({
      transport: createMemoryTransport({}, { broker }),
      signer: signerOf(SECRET),
    });
    const publisher = createEventBus({
      transport: createMemoryTransport({}, { broker }),
      ...(publisherSecret === undefined ? {} : { signer: signerOf(publisherSecret) }),
    });
    buses.push(consumer, publisher);
    stops.push(async () => broker.close());
    return { consumer, publisher };
  }

  it.each([
    ['unsigned', undefined, 'is not signed'],
    ['signed with another secret', OTHER_SECRET, 'has a wrong signature'],
  ])('dead-letters an event %s and never handles it', async (_name, secret, problem) => {
    const { consumer, publisher } = memoryBuses(secret);
    const handled = await ordersHandled(consumer);
    await publisher.publish(PaymentSucceeded, { orderId: 'o-forged', amountCents: 1 });
    const [letter] = await deadLettersOf(consumer, 1);
    expect(letter?.reason.kind).toBe('signature');
    expect(letter?.reason.message).toContain(problem);
    expect(handled).toEqual([]);
  });

  it('handles an event signed with the same secret, its own and another bus’s', async () => {
    const { consumer, publisher } = memoryBuses(SECRET);
    const handled = await ordersHandled(consumer);
    await publisher.publish(PaymentSucceeded, { orderId: 'o-1', amountCents: 1 });
    await consumer.publish(PaymentSucceeded, { orderId: 'o-2', amountCents: 1 });
    await waitFor(() => handled.length === 2, { message: 'both signed events' });
    expect(handled.sort()).toEqual(['o-1', 'o-2']);
    expect(await consumer.deadLetters.list()).toEqual([]);
  });
});
