/**
 * Fault tests of the `nats` transport against real nats-server processes: a consumer replica killed with
 * -9, nats-server (file storage) killed with -9 and restarted, a hung server, poison and invalid events,
 * the inbox absorbing duplicates, max deliveries, and `close()` leaving nothing behind.
 */

import { fileURLToPath } from 'node:url';
import { connect, createInbox, type NatsConnection, nanos } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { type ServerHandle, startNats, waitFor } from '../../../../test/harness/index.js';
import { defineEvent } from '../../src/define-event.js';
import { createEventBus, type EventBus } from '../../src/event-bus.js';
import type { GroupBinding } from '../../src/transport/index.js';
import { createNatsTransport, type NatsTransportOptions } from '../../src/transports/nats/index.js';
import { NatsNames } from '../../src/transports/nats/names.js';
import {
  expectMidstreamKill,
  expectNoAckedLossAcrossCrash,
  expectPoisonAndInvalidLetters,
  expectStopLeavesNothing,
  type FaultBusOptions,
  Job,
  poisonScenario,
  sleep,
  suspend,
  unique,
  useFaultBuses,
} from './support/broker-faults.js';

const childScript = fileURLToPath(new URL('./nats-fault-child.ts', import.meta.url));
const sharedUrl = inject('natsUrl');

let admin: NatsConnection;
let servers: ServerHandle[] = [];

// Registered before the buses' hook, so it runs after it: the buses stop while their servers are up.
afterEach(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  servers = [];
});
const faults = useFaultBuses();

function newBus(transport: NatsTransportOptions & { stream: string }, options?: FaultBusOptions): EventBus {
  return faults.newBus(
    createNatsTransport({ url: sharedUrl, ackWait: 1_000, pullExpires: 2_000, ...transport }),
    options,
  );
}

beforeAll(async () => {
  admin = await connect({ servers: sharedUrl });
});

afterAll(async () => {
  await admin.close();
});

describe('nats transport under faults', () => {
  // First, so no earlier test's sockets are still closing when the baseline is taken.
  it('close() drains and leaves no timer or socket behind', async () => {
    const stream = unique('close');
    await expectStopLeavesNothing(
      () => createEventBus({ transport: createNatsTransport({ url: sharedUrl, stream, ackWait: 1_000 }) }),
      { settleMs: 2_000 },
    );
  });

  it('a replica killed with -9 mid-batch: the other replica handles every event within ackWait, none lost', async () => {
    const stream = unique('kill');
    const ackWait = 2_000;
    const replica = await faults.startReplica(childScript, [
      sharedUrl,
      stream,
      'workers',
      '8',
      String(ackWait),
    ]);
    const takenByChild = replica.taken;

    const survivor = newBus({ stream, ackWait });
    const handled = new Map<string, { attempt: number; at: number }>();
    await survivor.subscribe(
      Job,
      async (_payload, meta) => {
        await sleep(2);
        handled.set(meta.id, { attempt: meta.attempt, at: Date.now() });
      },
      { group: 'workers', concurrency: 8 },
    );
    const publisher = newBus({ stream });
    const ids = await publisher.publishMany(
      Job,
      Array.from({ length: 60 }, (_, n) => ({ n })),
    );
    await waitFor(() => takenByChild.size >= 4, { timeout: 10_000, message: 'the child to take a batch' });
    const killedAt = await replica.kill();

    await waitFor(() => ids.every((id) => handled.has(id)), {
      timeout: ackWait * 4 + 5_000,
      message: 'every event handled by the surviving replica',
    });
    expect(handled.size).toBe(60);
    expect(takenByChild.size).toBeGreaterThanOrEqual(4);
    for (const id of takenByChild) {
      const { attempt, at } = handled.get(id)!;
      expect(attempt).toBeGreaterThanOrEqual(2);
      // The child's leases stop with it: its events come back at most ackWait after the kill (plus CPU slack).
      expect(at - killedAt).toBeLessThan(ackWait + 1_500);
    }
  });

  it('nats-server (file storage) killed -9 and restarted between publish and consume: 0 acknowledged events lost', async () => {
    const server = await startNats();
    servers.push(server);
    const stream = unique('restart');
    const groups: GroupBinding[] = [{ event: Job.name, group: 'billing' }];
    await expectNoAckedLossAcrossCrash(
      newBus({ url: server.url, stream }, { groups }),
      async () => {
        await server.kill();
        await server.restart();
      },
      () => newBus({ url: server.url, stream }),
      30_000,
    );
  });

  it('nats-server killed -9 mid-stream: consumers resume, publishes fail fast and coded, duplicates are counted and absorbed by the inbox', async () => {
    const server = await startNats();
    servers.push(server);
    const stream = unique('midstream');
    const groups: GroupBinding[] = [{ event: Job.name, group: 'ledger' }];
    const consumer = newBus({ url: server.url, stream, publishTimeout: 1_000 }, { groups });
    await expectMidstreamKill(
      'nats',
      consumer,
      newBus({ url: server.url, stream, publishTimeout: 1_000 }),
      async () => {
        await server.kill();
        await sleep(300);
        await server.restart();
      },
      { ackedWithin: 20_000, handledWithin: 30_000, rejectWithin: 1_000 + 1_000 },
    );
    expect(consumer.stats().transport.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('absorbs a republished event with the inbox once the duplicate window has passed, and counts it', async () => {
    const stream = unique('dup');
    const consumer = newBus({ stream, duplicateWindow: 100 });
    const runs: string[] = [];
    await consumer.subscribe(Job, (_payload, meta) => void runs.push(meta.id), {
      group: 'mailer',
      inbox: true,
    });
    const publisher = newBus({ stream, duplicateWindow: 100 });
    await publisher.publish(Job, { n: 1 }, { id: 'order-1' });
    await publisher.publish(Job, { n: 1 }, { id: 'order-1' });
    await waitFor(() => runs.length === 1, { message: 'the first copy' });
    await sleep(250);
    await publisher.publish(Job, { n: 1 }, { id: 'order-1' });
    await publisher.publish(Job, { n: 2 }, { id: 'order-2' });
    await waitFor(() => consumer.stats().subscriptions[0]!.duplicates === 1, {
      message: 'the late copy to be counted',
    });
    await waitFor(() => runs.length === 2, { message: 'the second event' });
    expect(runs).toEqual(['order-1', 'order-2']);
  });

  it('terms a poison event after maxAttempts and an invalid payload at once, without blocking the others', async () => {
    const stream = unique('poison');
    const consumer = newBus({ stream });
    const { good, poison, invalid, poisonCalls } = await poisonScenario(consumer, newBus({ stream }), {
      group: 'worker',
      backoffMs: 50,
    });
    await waitFor(() => good.length === 20, { message: 'the events behind the poison' });
    await expectPoisonAndInvalidLetters(consumer, { poison, invalid });
    const jsm = await admin.jetstreamManager();
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(stream, new NatsNames(stream).durable('worker', Job.name));
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { message: 'the consumer to have nothing pending' },
    );
    await sleep(1_200);
    expect(poisonCalls()).toBe(3);
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);
  });

  it('refuses an event larger than the server accepts, and cuts a dead letter that would not fit', async () => {
    const stream = unique('big');
    const Blob = defineEvent('fault.blob', z.object({ data: z.string() }));
    const bus = newBus({ stream }, { groups: [{ event: Blob.name, group: 'reader' }] });
    await bus.connect();
    await expect(bus.publish(Blob, { data: 'x'.repeat(2 * 1024 * 1024) })).rejects.toMatchObject({
      code: 'EVENTS_PUBLISH_INVALID',
      message: expect.stringContaining('max_payload'),
    });
    const jsm = await admin.jetstreamManager();
    expect((await jsm.streams.info(stream)).state.messages).toBe(0);

    // Just under the limit, refused by the consumer's schema: its dead letter would not fit, so its text is cut.
    const StrictBlob = defineEvent('fault.blob', z.object({ data: z.string().max(10) }));
    await bus.subscribe(StrictBlob, () => undefined, { group: 'reader' });
    const id = await bus.publish(Blob, { data: 'x'.repeat(1_045_000) });
    await waitFor(async () => (await bus.deadLetters.list()).length === 1, { message: 'the dead letter' });
    const [letter] = await bus.deadLetters.list();
    expect(letter).toMatchObject({ eventId: id, envelope: undefined, reason: { kind: 'invalid-payload' } });
    expect(letter!.reason.message).toContain('cut to');
    expect(letter!.raw!.length).toBeLessThan(1_045_000);
  });

  it('publish rejects within publishTimeout, coded, when the server is down or hung', async () => {
    const server = await startNats();
    servers.push(server);
    const stream = unique('down');
    const publisher = newBus({ url: server.url, stream, publishTimeout: 500 });
    await publisher.connect();
    await publisher.publish(Job, { n: 1 });

    const resume = await suspend(server.pid, 'nats-server');
    try {
      const started = Date.now();
      const hung = await publisher.publish(Job, { n: 2 }).catch((e: unknown) => e);
      expect(hung).toMatchObject({ code: 'EVENTS_PUBLISH_TIMEOUT', details: { maybeStored: true } });
      expect(Date.now() - started).toBeLessThan(500 + 700);
    } finally {
      resume();
    }

    await server.kill();
    // Right after the crash the client may not have seen the socket close yet: the publish times out instead.
    const racing = Date.now();
    const raced = await publisher.publish(Job, { n: 3 }).catch((e: unknown) => e);
    expect(['EVENTS_BROKER_UNAVAILABLE', 'EVENTS_PUBLISH_TIMEOUT']).toContain(
      (raced as { code: string }).code,
    );
    expect(Date.now() - racing).toBeLessThan(500 + 700);
    await waitFor(async () => !(await publisher.health()).ok, { message: 'the client to notice the crash' });
    const started = Date.now();
    const down = await publisher.publish(Job, { n: 3 }).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'EVENTS_BROKER_UNAVAILABLE', details: { maybeStored: false } });
    expect(Date.now() - started).toBeLessThan(100);

    await server.restart();
    await waitFor(async () => (await publisher.health()).ok, {
      timeout: 10_000,
      message: 'the client to reconnect',
    });
    await publisher.publish(Job, { n: 4 });
  });

  it('dead-letters a retry on the last delivery maxDeliver allows, and an event whose last delivery went to a dead consumer', async () => {
    const stream = unique('maxdeliver');
    const groups: GroupBinding[] = [
      { event: Job.name, group: 'flaky' },
      { event: Job.name, group: 'crashy' },
    ];
    const transport = { stream, maxDeliver: 2, ackWait: 500 };
    const consumer = newBus(transport, { groups });
    await consumer.connect();
    let calls = 0;
    await consumer.subscribe(
      Job,
      () => {
        calls++;
        throw new Error('always');
      },
      { group: 'flaky', maxAttempts: 5, backoff: [20] },
    );
    const publisher = newBus(transport);
    const id = await publisher.publish(Job, { n: 7 });

    // A consumer that takes the event twice and dies each time (raw pulls, never acked).
    const durable = new NatsNames(stream).durable('crashy', Job.name);
    const inbox = createInbox();
    let taken = 0;
    const raw = admin.subscribe(inbox, { callback: (_e, m) => void (m.subject !== inbox && taken++) });
    for (const expected of [1, 2]) {
      admin.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
        JSON.stringify({ batch: 1, expires: nanos(2_000) }),
        {
          reply: inbox,
        },
      );
      await waitFor(() => taken === expected, { message: `raw delivery ${expected}` });
    }
    raw.unsubscribe();
    await consumer.subscribe(Job, () => undefined, { group: 'crashy' });

    await waitFor(async () => (await consumer.deadLetters.list()).length === 2, {
      timeout: 8_000,
      message: 'two dead letters',
    });
    const letters = await consumer.deadLetters.list();
    expect(letters.find((l) => l.group === 'flaky')).toMatchObject({
      eventId: id,
      attempts: 2,
      reason: { kind: 'redelivery-limit' },
    });
    expect(letters.find((l) => l.group === 'crashy')).toMatchObject({
      eventId: id,
      attempts: 2,
      reason: { kind: 'redelivery-limit' },
    });
    expect(calls).toBe(2);
    expect(consumer.stats().transport.maxDeliveries).toBeGreaterThanOrEqual(1);
  });
});
