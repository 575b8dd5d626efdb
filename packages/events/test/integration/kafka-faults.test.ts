/**
 * Fault tests of the `kafka` transport against one private Kafka broker (KRaft) started for this file:
 * a consumer replica killed with -9 mid-batch, the broker killed with -9 and restarted (between publish
 * and consume, and mid-stream), a hung broker, a poison event behind which its partition goes on, and
 * `stop()` leaving nothing behind. The tests that kill the broker restart it on the same storage, so
 * the later tests run on it too.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type KafkaServerHandle, startKafka, waitFor } from '../../../../test/harness/index.js';
import { defineEvent } from '../../src/define-event.js';
import { isEventsError } from '../../src/errors.js';
import { createEventBus, type EventBus, type EventBusOptions } from '../../src/event-bus.js';
import type { GroupBinding } from '../../src/transport/index.js';
import { createKafkaTransport, type KafkaTransportOptions } from '../../src/transports/kafka/index.js';

const Job = defineEvent('fault.job', z.object({ n: z.number().int().min(0) }));
const LooseJob = defineEvent('fault.job', z.object({ n: z.number() }));
const childScript = fileURLToPath(new URL('./kafka-fault-child.ts', import.meta.url));

let kafka: KafkaServerHandle;
let admin: Admin;
let buses: EventBus[] = [];
let children: ChildProcess[] = [];
let counter = 0;

const unique = (what: string) => `f${what}${Date.now().toString(36)}${(counter++).toString(36)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function newBus(
  transport: KafkaTransportOptions & { prefix: string },
  options: Partial<Omit<EventBusOptions, 'transport'>> = {},
): EventBus {
  const bus = createEventBus({
    transport: createKafkaTransport({
      brokers: kafka.bootstrap,
      partitions: 4,
      sessionTimeout: 3_000,
      heartbeatInterval: 300,
      maxWait: 200,
      publishTimeout: 2_000,
      ...transport,
    }),
    drainTimeout: 2_000,
    ...options,
  });
  buses.push(bus);
  return bus;
}

/** Publishes `count` jobs with ids `<prefix>-<n>`, `inFlight` at a time, retrying a failed publish with the same id. */
async function publishAll(
  bus: EventBus,
  prefix: string,
  count: number,
  inFlight: number,
  onAcked: (id: string, n: number) => void,
  onRejected: (error: unknown, elapsedMs: number) => void = () => undefined,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const id = `${prefix}-${n}`;
      for (;;) {
        const started = Date.now();
        try {
          await bus.publish(Job, { n }, { id });
          onAcked(id, n);
          break;
        } catch (error) {
          onRejected(error, Date.now() - started);
          await sleep(50);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Kills the broker with -9 and starts it again on the same storage and ports. */
async function crashAndRestart(pauseMs = 0): Promise<void> {
  await kafka.kill();
  if (pauseMs > 0) await sleep(pauseMs);
  await kafka.restart();
}

beforeAll(async () => {
  kafka = await startKafka();
  admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await kafka?.stop();
});

afterEach(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(buses.map((bus) => bus.stop().catch(() => undefined)));
  buses = [];
  children = [];
});

describe('kafka transport under faults', () => {
  // First, so no earlier test's sockets are still closing when the baseline is taken.
  it('stop() drains and leaves no timer or socket behind', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    const before = { timers: count('Timeout'), sockets: count('TCPSocketWrap') };
    const bus = createEventBus({
      transport: createKafkaTransport({ brokers: kafka.bootstrap, prefix: unique('close'), maxWait: 200 }),
    });
    const seen: number[] = [];
    await bus.subscribe(Job, (payload) => void seen.push(payload.n), { group: 'a', inbox: true });
    await bus.publish(Job, { n: 1 });
    await waitFor(() => seen.length === 1, { timeout: 15_000, message: 'the event' });
    expect(count('TCPSocketWrap')).toBeGreaterThan(before.sockets);
    await bus.stop();
    await waitFor(() => count('TCPSocketWrap') <= before.sockets && count('Timeout') <= before.timers, {
      timeout: 5_000,
      message: 'the sockets and timers to go away',
    });
    await bus.stop();
  });

  it('a replica killed with -9 mid-batch: its partitions move to the other replica, which handles every event', async () => {
    const prefix = unique('kill');
    const sessionTimeout = 3_000;
    const groups: GroupBinding[] = [{ event: Job.name, group: 'workers' }];
    await newBus({ prefix }, { groups }).connect();
    const child = fork(childScript, [kafka.bootstrap, prefix, 'workers', '8', String(sessionTimeout)], {
      execArgv: ['--conditions=source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const takenByChild = new Set<string>();
    let childReady = false;
    child.on('message', (message: { type: string; id?: string }) => {
      if (message.type === 'ready') childReady = true;
      if (message.type === 'started') takenByChild.add(message.id!);
    });
    await waitFor(() => childReady, { timeout: 30_000, message: 'the child replica to subscribe' });

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
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;

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
    const publisher = newBus({ prefix });
    await publisher.connect();
    const acked: string[] = [];
    await publishAll(publisher, 'p', 3_000, 64, (id) => acked.push(id));

    await crashAndRestart();

    const consumer = newBus({ prefix });
    const seen = new Set<string>();
    await consumer.subscribe(Job, (_payload, meta) => void seen.add(meta.id), {
      group: 'billing',
      concurrency: 64,
    });
    await waitFor(() => acked.every((id) => seen.has(id)), {
      timeout: 40_000,
      message: 'every acknowledged event',
    });
    expect(acked).toHaveLength(3_000);
    expect(acked.filter((id) => !seen.has(id))).toEqual([]);
  }, 90_000);

  it('the broker killed -9 mid-stream: publishes fail coded within a bound, consumers resume, none lost, no handler runs twice (inbox)', async () => {
    const prefix = unique('midstream');
    const publishTimeout = 1_000;
    const groups: GroupBinding[] = [{ event: Job.name, group: 'ledger' }];
    const consumer = newBus({ prefix, publishTimeout }, { groups });
    const runs = new Map<string, number>();
    await consumer.subscribe(
      Job,
      async (_payload, meta) => {
        runs.set(meta.id, (runs.get(meta.id) ?? 0) + 1);
        await sleep(1);
      },
      { group: 'ledger', concurrency: 32, inbox: true },
    );
    const publisher = newBus({ prefix, publishTimeout });
    await publisher.connect();

    const acked = new Set<string>();
    const rejections: { code: string; elapsed: number }[] = [];
    const publishing = publishAll(
      publisher,
      'm',
      4_000,
      16,
      (id) => acked.add(id),
      (error, elapsed) =>
        rejections.push({ code: isEventsError(error) ? error.code : String(error), elapsed }),
    );
    await waitFor(() => acked.size >= 1_500, { timeout: 30_000, message: '1,500 acknowledged publishes' });
    await crashAndRestart(300);
    await publishing;

    await waitFor(() => [...acked].every((id) => runs.has(id)), {
      timeout: 40_000,
      message: 'every acknowledged event handled',
    }).catch((error: unknown) => {
      const missing = [...acked].filter((id) => !runs.has(id));
      throw new Error(
        `${(error as Error).message}: ${missing.length} of ${acked.size} not handled (${missing.slice(0, 5).join(', ')}), stats ${JSON.stringify(consumer.stats())}`,
      );
    });
    const stats = consumer.stats();
    const sub = stats.subscriptions[0]!;
    const rerun = [...runs.values()].filter((n) => n > 1).length;
    console.info(
      `[kafka mid-stream kill] acked ${acked.size}, handled ${runs.size}, duplicates absorbed by the inbox ${sub.duplicates}, ` +
        `handler re-runs ${rerun}, publish rejections ${rejections.length} (${[...new Set(rejections.map((r) => r.code))].join(', ')}), ` +
        `slowest rejection ${Math.max(0, ...rejections.map((r) => r.elapsed))} ms, transport ${JSON.stringify(stats.transport)}`,
    );
    expect(acked.size).toBe(4_000);
    expect([...acked].filter((id) => !runs.has(id))).toEqual([]);
    // With the inbox, a handler runs again only when its inbox write was lost with the broker.
    expect(rerun).toBeLessThanOrEqual(stats.transport.inboxWriteFailures!);
    expect(rejections.length).toBeGreaterThan(0);
    for (const { code, elapsed } of rejections) {
      expect(['EVENTS_BROKER_UNAVAILABLE', 'EVENTS_PUBLISH_TIMEOUT']).toContain(code);
      expect(elapsed).toBeLessThan(publishTimeout + 1_000);
    }
  }, 120_000);

  it('a poison event is dead-lettered after maxAttempts while the events behind it on its partition go on', async () => {
    const prefix = unique('poison');
    const groups: GroupBinding[] = [{ event: Job.name, group: 'worker' }];
    const consumer = newBus({ prefix }, { groups });
    const good: number[] = [];
    let poisonCalls = 0;
    await consumer.subscribe(
      Job,
      (payload) => {
        if (payload.n === 0) {
          poisonCalls++;
          throw new Error('poison');
        }
        good.push(payload.n);
      },
      { group: 'worker', concurrency: 1, maxAttempts: 3, backoff: [300] },
    );
    const publisher = newBus({ prefix });
    // One key: one partition, handled in order; the poison is first.
    const poison = await publisher.publish(Job, { n: 0 }, { key: 'account-7' });
    const invalid = await publisher.publish(LooseJob, { n: -1 }, { key: 'account-7' });
    for (let n = 1; n <= 20; n++) await publisher.publish(Job, { n }, { key: 'account-7' });
    await waitFor(() => good.length === 20, { timeout: 15_000, message: 'the events behind the poison' });
    expect(good).toEqual(Array.from({ length: 20 }, (_, n) => n + 1));
    expect(poisonCalls).toBeLessThan(3);
    await waitFor(async () => (await consumer.deadLetters.list()).length === 2, {
      timeout: 15_000,
      message: 'two dead letters',
    });
    const letters = await consumer.deadLetters.list();
    expect(letters.find((l) => l.eventId === poison)).toMatchObject({
      attempts: 3,
      reason: { kind: 'max-attempts' },
    });
    expect(letters.find((l) => l.eventId === invalid)).toMatchObject({
      attempts: 1,
      reason: { kind: 'invalid-payload' },
    });
    await waitFor(async () => (await consumer.transport.pending?.(groups[0]!)) === 0, {
      timeout: 10_000,
      message: 'the group to have nothing pending',
    });
    expect(poisonCalls).toBe(3);
  });

  it('publish rejects within publishTimeout, coded, when the broker is hung or down', async () => {
    const prefix = unique('down');
    const publishTimeout = 1_000;
    const publisher = newBus({ prefix, publishTimeout });
    await publisher.connect();
    await publisher.publish(Job, { n: 1 });

    process.kill(kafka.pid, 'SIGSTOP');
    await waitFor(
      () => readFileSync(`/proc/${kafka.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') === true,
      { message: 'the broker to be stopped by SIGSTOP' },
    );
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
      process.kill(kafka.pid, 'SIGCONT');
    }

    await kafka.kill();
    for (let n = 4; n < 7; n++) {
      const started = Date.now();
      const down = await publisher.publish(Job, { n }).catch((e: unknown) => e);
      expect(['EVENTS_BROKER_UNAVAILABLE', 'EVENTS_PUBLISH_TIMEOUT']).toContain(
        (down as { code: string }).code,
      );
      expect(Date.now() - started).toBeLessThan(publishTimeout + 700);
    }

    await kafka.restart();
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
