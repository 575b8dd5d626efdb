/**
 * Fault tests of the `kafka` transport against one private Kafka broker (KRaft) started for this file:
 * a consumer replica killed with -9 mid-batch, the broker killed with -9 and restarted (between publish
 * and consume, and mid-stream), a hung broker, a poison event behind which its partition goes on, and
 * `stop()` leaving nothing behind. The tests that kill the broker restart it on the same storage, so
 * the later tests run on it too.
 */

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/harness/index.js';
import { createEventBus, type EventBus } from '../../src/event-bus.js';
import type { GroupBinding } from '../../src/transport/index.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../src/transports/kafka/index.js';
import {
  expectMidstreamKill,
  expectNoAckedLossAcrossCrash,
  expectPoisonAndInvalidLetters,
  expectStopLeavesNothing,
  type FaultBusOptions,
  Job,
  poisonScenario,
  publishAll,
  sleep,
  suspend,
  unique,
  useFaultBuses,
} from './support/broker-faults.js';
import { usePrivateKafka } from './support/kafka-broker.js';

const childScript = fileURLToPath(new URL('./kafka-fault-child.ts', import.meta.url));

const broker = usePrivateKafka();
const faults = useFaultBuses();

function newBus(transport: KafkaTransportOptions & { prefix: string }, options?: FaultBusOptions): EventBus {
  return faults.newBus(
    createKafkaTransport({
      brokers: broker.server.bootstrap,
      partitions: 4,
      sessionTimeout: 3_000,
      heartbeatInterval: 300,
      maxWait: 200,
      publishTimeout: 2_000,
      ...transport,
    }),
    options,
  );
}

/** Kills the broker with -9 and starts it again on the same storage and ports. */
async function crashAndRestart(pauseMs = 0): Promise<void> {
  await broker.server.kill();
  if (pauseMs > 0) await sleep(pauseMs);
  await broker.server.restart();
}

describe('kafka transport under faults', () => {
  // First, so no earlier test's sockets are still closing when the baseline is taken.
  it('stop() drains and leaves no timer or socket behind', async () => {
    await expectStopLeavesNothing(
      () =>
        createEventBus({
          transport: createKafkaTransport({
            brokers: broker.server.bootstrap,
            prefix: unique('close'),
            maxWait: 200,
          }),
        }),
      { eventMs: 15_000, settleMs: 5_000 },
    );
  });

  it('a replica killed with -9 mid-batch: its partitions move to the other replica, which handles every event', async () => {
    const prefix = unique('kill');
    const sessionTimeout = 3_000;
    const groups: GroupBinding[] = [{ event: Job.name, group: 'workers' }];
    await newBus({ prefix }, { groups }).connect();
    const replica = await faults.startReplica(childScript, [
      broker.server.bootstrap,
      prefix,
      'workers',
      '8',
      String(sessionTimeout),
    ]);
    const takenByChild = replica.taken;

    const survivor = newBus({ prefix, sessionTimeout });
    const handled = new Map<string, number>();
    await survivor.subscribe(
      Job,
      async (_payload, meta) => {
        await sleep(2);
        handled.set(meta.id, Date.now());
      },
      { group: 'workers', concurrency: 8 },
    );
    // Both replicas own partitions once the survivor has handled an event of its own and the child one.
    const publisher = newBus({ prefix });
    const ids: string[] = [];
    await waitFor(
      async () => {
        ids.push(
          ...(await publisher.publishMany(
            Job,
            Array.from({ length: 8 }, (_, n) => ({ n })),
          )),
        );
        await sleep(300);
        return takenByChild.size >= 1 && handled.size >= 1;
      },
      { timeout: 30_000, interval: 100, message: 'both replicas to own partitions' },
    );
    // The child's handlers never finish: what it took stays in flight, and the batches of its partitions
    // behind them wait; all of that is only handled once the child is gone.
    const handledBefore = handled.size;
    ids.push(
      ...(await publisher.publishMany(
        Job,
        Array.from({ length: 60 }, (_, n) => ({ n })),
      )),
    );
    await waitFor(() => handled.size > handledBefore, { message: 'the survivor to handle new events' });
    const killedAt = await replica.kill();

    await waitFor(() => ids.every((id) => handled.has(id)), {
      timeout: sessionTimeout * 3 + 10_000,
      message: 'every event handled by the surviving replica',
    });
    expect(handled.size).toBe(ids.length);
    expect(takenByChild.size).toBeGreaterThanOrEqual(1);
    const late = [...takenByChild].map((id) => handled.get(id)! - killedAt);
    // The child's partitions move once its session lapses (plus a rejoin and CPU slack).
    expect(Math.max(...late)).toBeLessThan(sessionTimeout + 5_000);
  });

  it('a replica joining mid-stream takes its share of the partitions: none lost, none handled twice, no stall beyond the session timeout', async () => {
    const prefix = unique('join');
    const sessionTimeout = 3_000;
    const groups: GroupBinding[] = [{ event: Job.name, group: 'workers' }];
    const handledBy = new Map<string, Set<string>>();
    const times: number[] = [];
    const subscribe = (bus: EventBus, name: string) =>
      bus.subscribe(
        Job,
        async (_payload, meta) => {
          await sleep(2);
          const by = handledBy.get(meta.id) ?? new Set<string>();
          by.add(name);
          handledBy.set(meta.id, by);
          times.push(Date.now());
        },
        { group: 'workers', concurrency: 8 },
      );
    await subscribe(newBus({ prefix, sessionTimeout }, { groups }), 'first');
    const publisher = newBus({ prefix });
    await publisher.connect();
    const acked = new Set<string>();
    const publishing = publishAll(publisher, 'j', 2_000, 8, (id) => acked.add(id));
    await waitFor(() => handledBy.size >= 300, { timeout: 20_000, message: '300 events handled' });
    const joinedAt = Date.now();
    await subscribe(newBus({ prefix, sessionTimeout }), 'second');
    await publishing;

    await waitFor(() => [...acked].every((id) => handledBy.has(id)), {
      timeout: 30_000,
      message: 'every acknowledged event handled',
    });
    expect(acked.size).toBe(2_000);
    const bySecond = [...handledBy.values()].filter((by) => by.has('second')).length;
    const byBoth = [...handledBy.values()].filter((by) => by.size === 2).length;
    console.info(`[kafka join] handled by the second replica ${bySecond}, by both ${byBoth}`);
    expect(bySecond).toBeGreaterThan(0);
    // The first replica finished and committed what it ran before giving partitions up.
    expect(byBoth).toBe(0);
    const after = times.filter((at) => at >= joinedAt).sort((a, b) => a - b);
    const longestGap = Math.max(...after.slice(1).map((at, i) => at - after[i]!));
    expect(longestGap).toBeLessThan(sessionTimeout);
  });

  it('the broker killed -9 and restarted between publish and consume: 0 acknowledged events lost', async () => {
    const prefix = unique('restart');
    await expectNoAckedLossAcrossCrash(
      newBus({ prefix }),
      () => crashAndRestart(),
      () => newBus({ prefix }),
      40_000,
    );
  }, 90_000);

  it('the broker killed -9 mid-stream: publishes fail coded within a bound, consumers resume, none lost, no handler runs twice (inbox)', async () => {
    const prefix = unique('midstream');
    const publishTimeout = 1_000;
    const groups: GroupBinding[] = [{ event: Job.name, group: 'ledger' }];
    const rejections = await expectMidstreamKill(
      'kafka',
      newBus({ prefix, publishTimeout }, { groups }),
      newBus({ prefix, publishTimeout }),
      () => crashAndRestart(300),
      { ackedWithin: 30_000, handledWithin: 40_000, rejectWithin: publishTimeout + 1_000 },
    );
    expect(rejections.length).toBeGreaterThan(0);
  }, 120_000);

  it('a poison event is dead-lettered after maxAttempts while the events behind it on its partition go on', async () => {
    const prefix = unique('poison');
    const groups: GroupBinding[] = [{ event: Job.name, group: 'worker' }];
    const consumer = newBus({ prefix }, { groups });
    // One key: one partition, handled in order; the poison is first.
    const { good, poison, invalid, poisonCalls } = await poisonScenario(consumer, newBus({ prefix }), {
      group: 'worker',
      backoffMs: 300,
      key: 'account-7',
    });
    await waitFor(() => good.length === 20, { timeout: 15_000, message: 'the events behind the poison' });
    expect(good).toEqual(Array.from({ length: 20 }, (_, n) => n + 1));
    expect(poisonCalls()).toBeLessThan(3);
    await expectPoisonAndInvalidLetters(consumer, { poison, invalid }, 15_000);
    await waitFor(async () => (await consumer.transport.pending?.(groups[0]!)) === 0, {
      timeout: 10_000,
      message: 'the group to have nothing pending',
    });
    expect(poisonCalls()).toBe(3);
  });

  it('publish rejects within publishTimeout, coded, when the broker is hung or down', async () => {
    const prefix = unique('down');
    const publishTimeout = 1_000;
    const publisher = newBus({ prefix, publishTimeout });
    await publisher.connect();
    await publisher.publish(Job, { n: 1 });

    const resume = await suspend(broker.server.pid, 'the broker');
    try {
      const started = Date.now();
      const hung = await publisher.publish(Job, { n: 2 }).catch((e: unknown) => e);
      expect(hung).toMatchObject({ code: 'EVENTS_PUBLISH_TIMEOUT', details: { maybeStored: true } });
      expect(Date.now() - started).toBeLessThan(publishTimeout + 700);
      // While the request is stuck, the next publish is refused at once: nothing was sent.
      const refusedAt = Date.now();
      const refused = await publisher.publish(Job, { n: 3 }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'EVENTS_BROKER_UNAVAILABLE', details: { maybeStored: false } });
      expect(Date.now() - refusedAt).toBeLessThan(100);
    } finally {
      resume();
    }

    await broker.server.kill();
    for (let n = 4; n < 7; n++) {
      const started = Date.now();
      const down = await publisher.publish(Job, { n }).catch((e: unknown) => e);
      expect(['EVENTS_BROKER_UNAVAILABLE', 'EVENTS_PUBLISH_TIMEOUT']).toContain(
        (down as { code: string }).code,
      );
      expect(Date.now() - started).toBeLessThan(publishTimeout + 700);
    }

    await broker.server.restart();
    await waitFor(
      () =>
        publisher.publish(Job, { n: 8 }).then(
          () => true,
          () => false,
        ),
      { timeout: 30_000, interval: 200, message: 'publishing to work again' },
    );
  }, 90_000);
});
