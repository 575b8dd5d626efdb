/**
 * What the broker fault tests (`kafka-faults`, `nats-faults`) share: the buses and replica child
 * processes a file makes (cleaned up after each test), the job events, publishing under faults with
 * retries, a stopped (SIGSTOP) server, and the scenarios of a kill between publish and consume, a
 * mid-stream kill, and the dead letters a poison and an invalid event leave.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../../test/harness/index.js';
import { defineEvent } from '../../../src/define-event.js';
import { isEventsError } from '../../../src/errors.js';
import { createEventBus, type EventBus, type EventBusOptions } from '../../../src/event-bus.js';
import type { EventTransport } from '../../../src/transport/index.js';

/** The event every fault test publishes. */
export const Job = defineEvent('fault.job', z.object({ n: z.number().int().min(0) }));
/** The same event name with a looser schema, to publish a payload `Job`'s consumers refuse. */
export const LooseJob = defineEvent('fault.job', z.object({ n: z.number() }));

let counter = 0;

/** A name no other test of the run uses (stream, prefix). */
export const unique = (what: string) => `f${what}${Date.now().toString(36)}${(counter++).toString(36)}`;
/** Waits `ms`: only to pace a handler or a retry, never to wait for an outcome. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `count` jobs with ids `<prefix>-<n>`, `inFlight` at a time, retrying a failed publish with the same id. */
export async function publishAll(
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

/** A consumer replica in its own process, and the ids of the events it started handling. */
export interface ReplicaChild {
  readonly child: ChildProcess;
  readonly taken: Set<string>;
  /** Kills the child with -9 and resolves, once it has exited, with the time of the kill. */
  kill(): Promise<number>;
}

/** Forks `script` with `args`, adds it to `children` and waits until it has subscribed. */
async function startReplicaChild(
  script: string,
  args: string[],
  children: ChildProcess[],
): Promise<ReplicaChild> {
  const child = fork(script, args, {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const taken = new Set<string>();
  let ready = false;
  child.on('message', (message: { type: string; id?: string }) => {
    if (message.type === 'ready') ready = true;
    if (message.type === 'started') taken.add(message.id!);
  });
  await waitFor(() => ready, { timeout: 30_000, message: 'the child replica to subscribe' });
  return {
    child,
    taken,
    async kill() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      const killedAt = Date.now();
      await exited;
      return killedAt;
    },
  };
}

/** Kills with -9 every child still running. */
function killChildren(children: readonly ChildProcess[]): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Bus options of {@link FaultTestBuses.newBus}, beside the transport. */
export type FaultBusOptions = Partial<Omit<EventBusOptions, 'transport'>>;

/** The buses and replica children of a fault test file: each is stopped or killed after its test. */
export interface FaultTestBuses {
  /** A bus on `transport` with a 2 s drain timeout (unless `options` sets one). */
  newBus(transport: EventTransport, options?: FaultBusOptions): EventBus;
  /** Forks `script` with `args` as a consumer replica and waits until it has subscribed. */
  startReplica(script: string, args: string[]): Promise<ReplicaChild>;
}

/** Registers the `afterEach` that kills the replica children and stops the buses made through the result. */
export function useFaultBuses(): FaultTestBuses {
  const buses: EventBus[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    killChildren(children.splice(0));
    await Promise.all(buses.splice(0).map((bus) => bus.stop().catch(() => undefined)));
  });
  return {
    newBus(transport, options = {}) {
      const bus = createEventBus({ transport, drainTimeout: 2_000, ...options });
      buses.push(bus);
      return bus;
    },
    startReplica: (script, args) => startReplicaChild(script, args, children),
  };
}

/** Counts of the process's live timers and sockets, taken now, and a check that they are back to them. */
export function resourceBaseline() {
  const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
  const before = { timers: count('Timeout'), sockets: count('TCPSocketWrap') };
  return {
    /** Whether more sockets are open than at the baseline. */
    moreSockets: () => count('TCPSocketWrap') > before.sockets,
    /** Waits until no socket or timer is left beyond the baseline. */
    settled: (timeout: number) =>
      waitFor(() => count('TCPSocketWrap') <= before.sockets && count('Timeout') <= before.timers, {
        timeout,
        message: 'the sockets and timers to go away',
      }),
  };
}

/** Stops the process `pid` with SIGSTOP and waits until the kernel reports it stopped; resolves to its SIGCONT. */
export async function suspend(pid: number, what: string): Promise<() => void> {
  process.kill(pid, 'SIGSTOP');
  // The signal is asynchronous: wait until the kernel reports the process stopped ("T" in /proc).
  await waitFor(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') === true, {
    message: `${what} to be stopped by SIGSTOP`,
  });
  return () => process.kill(pid, 'SIGCONT');
}

/** A publish refused while the broker is down, with its code and how long it took. */
export interface Rejection {
  readonly code: string;
  readonly elapsed: number;
}

/** Publishes `count` jobs (`m-<n>`, 16 in flight) as {@link publishAll}, collecting the acked ids and the rejections. */
function publishThroughFaults(publisher: EventBus, count: number) {
  const acked = new Set<string>();
  const rejections: Rejection[] = [];
  const done = publishAll(
    publisher,
    'm',
    count,
    16,
    (id) => acked.add(id),
    (error, elapsed) => rejections.push({ code: isEventsError(error) ? error.code : String(error), elapsed }),
  );
  return { acked, rejections, done };
}

/**
 * The checks of a broker killed mid-stream: every acked event handled, a handler run again only when its
 * inbox write was lost with the broker, every rejection coded and within `rejectWithinMs`. Logs the figures.
 */
function expectMidstreamOutcome(
  label: string,
  consumer: EventBus,
  outcome: { acked: Set<string>; rejections: Rejection[]; runs: Map<string, number>; count: number },
  rejectWithinMs: number,
): void {
  const { acked, rejections, runs } = outcome;
  const stats = consumer.stats();
  const sub = stats.subscriptions[0]!;
  const rerun = [...runs.values()].filter((n) => n > 1).length;
  console.info(
    `[${label} mid-stream kill] acked ${acked.size}, handled ${runs.size}, duplicates absorbed by the inbox ${sub.duplicates}, ` +
      `handler re-runs ${rerun}, publish rejections ${rejections.length} (${[...new Set(rejections.map((r) => r.code))].join(', ')}), ` +
      `slowest rejection ${Math.max(0, ...rejections.map((r) => r.elapsed))} ms, transport ${JSON.stringify(stats.transport)}`,
  );
  expect(acked.size).toBe(outcome.count);
  expect([...acked].filter((id) => !runs.has(id))).toEqual([]);
  // With the inbox, a handler runs again only when its inbox write was lost with the broker (never acked).
  expect(rerun).toBeLessThanOrEqual(stats.transport.inboxWriteFailures!);
  for (const { code, elapsed } of rejections) {
    expect(['EVENTS_BROKER_UNAVAILABLE', 'EVENTS_PUBLISH_TIMEOUT']).toContain(code);
    expect(elapsed).toBeLessThan(rejectWithinMs);
  }
}

/** Waits for the two dead letters of a poison event (after 3 attempts) and an invalid payload (at once), and checks them. */
export async function expectPoisonAndInvalidLetters(
  consumer: EventBus,
  ids: { poison: string; invalid: string },
  timeout?: number,
): Promise<void> {
  await waitFor(async () => (await consumer.deadLetters.list()).length === 2, {
    ...(timeout === undefined ? {} : { timeout }),
    message: 'two dead letters',
  });
  const letters = await consumer.deadLetters.list();
  expect(letters.find((l) => l.eventId === ids.poison)).toMatchObject({
    attempts: 3,
    reason: { kind: 'max-attempts' },
  });
  expect(letters.find((l) => l.eventId === ids.invalid)).toMatchObject({
    attempts: 1,
    reason: { kind: 'invalid-payload' },
  });
}

/** Subscribes `group` on `consumer` recording how many times each event's handler ran (1 ms per run). */
async function countRuns(consumer: EventBus, group: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  await consumer.subscribe(
    Job,
    async (_payload, meta) => {
      runs.set(meta.id, (runs.get(meta.id) ?? 0) + 1);
      await sleep(1);
    },
    { group, concurrency: 32, inbox: true },
  );
  return runs;
}

/** Timings of {@link expectMidstreamKill}, in ms. */
export interface MidstreamTimings {
  /** Most time for the first 1,500 publishes to be acknowledged. */
  readonly ackedWithin: number;
  /** Most time, after the last publish, for every acknowledged event to be handled. */
  readonly handledWithin: number;
  /** Most time a refused publish may take. */
  readonly rejectWithin: number;
}

/**
 * The "killed mid-stream" scenario: `consumer` counts the runs of group `ledger` (inbox on) while
 * `publisher` publishes 4,000 jobs through faults; once 1,500 are acknowledged `crash` runs; then every
 * acknowledged job must be handled, with the checks of {@link expectMidstreamOutcome} (logged as `label`).
 * Resolves the publish rejections.
 */
export async function expectMidstreamKill(
  label: string,
  consumer: EventBus,
  publisher: EventBus,
  crash: () => Promise<void>,
  timings: MidstreamTimings,
): Promise<Rejection[]> {
  const runs = await countRuns(consumer, 'ledger');
  await publisher.connect();
  const publishing = publishThroughFaults(publisher, 4_000);
  const { acked } = publishing;
  await waitFor(() => acked.size >= 1_500, {
    timeout: timings.ackedWithin,
    message: '1,500 acknowledged publishes',
  });
  await crash();
  await publishing.done;

  await waitFor(() => [...acked].every((id) => runs.has(id)), {
    timeout: timings.handledWithin,
    message: 'every acknowledged event handled',
  }).catch((error: unknown) => {
    const missing = [...acked].filter((id) => !runs.has(id));
    throw new Error(
      `${(error as Error).message}: ${missing.length} of ${acked.size} not handled (${missing.slice(0, 5).join(', ')}), stats ${JSON.stringify(consumer.stats())}`,
    );
  });
  expectMidstreamOutcome(label, consumer, { ...publishing, runs, count: 4_000 }, timings.rejectWithin);
  return publishing.rejections;
}

/**
 * The "killed between publish and consume" scenario: publishes 3,000 acked jobs, runs `crash`, then
 * checks a new consumer sees every one of them.
 */
export async function expectNoAckedLossAcrossCrash(
  publisher: EventBus,
  crash: () => Promise<void>,
  newConsumer: () => EventBus,
  timeout: number,
): Promise<void> {
  await publisher.connect();
  const acked: string[] = [];
  await publishAll(publisher, 'p', 3_000, 64, (id) => acked.push(id));
  await crash();
  const consumer = newConsumer();
  const seen = new Set<string>();
  await consumer.subscribe(Job, (_payload, meta) => void seen.add(meta.id), {
    group: 'billing',
    concurrency: 64,
  });
  await waitFor(() => acked.every((id) => seen.has(id)), { timeout, message: 'every acknowledged event' });
  expect(acked).toHaveLength(3_000);
  expect(acked.filter((id) => !seen.has(id))).toEqual([]);
}

/**
 * Subscribes `group` (one at a time, 3 attempts, `backoffMs` between) with a handler that throws on the
 * poison job `n: 0` and records every other `n`; then publishes the poison, an invalid payload and the
 * jobs 1 to 20 in that order (`key`, when given, puts them on one partition).
 */
export async function poisonScenario(
  consumer: EventBus,
  publisher: EventBus,
  options: { group: string; backoffMs: number; key?: string },
) {
  const good: number[] = [];
  const state = { poisonCalls: 0 };
  await consumer.subscribe(
    Job,
    (payload) => {
      if (payload.n === 0) {
        state.poisonCalls++;
        throw new Error('poison');
      }
      good.push(payload.n);
    },
    { group: options.group, concurrency: 1, maxAttempts: 3, backoff: [options.backoffMs] },
  );
  const key = options.key === undefined ? {} : { key: options.key };
  const poison = await publisher.publish(Job, { n: 0 }, key);
  const invalid = await publisher.publish(LooseJob, { n: -1 }, key);
  for (let n = 1; n <= 20; n++) await publisher.publish(Job, { n }, key);
  return {
    good,
    poison,
    invalid,
    /** How many times the handler ran on the poison job. */
    poisonCalls: () => state.poisonCalls,
  };
}

/**
 * `stop()` leaves nothing behind: with a bus from `create` (made after the baseline is taken), one
 * event handled, then no socket or timer beyond the baseline within `settleMs`; a second `stop()` is harmless.
 */
export async function expectStopLeavesNothing(
  create: () => EventBus,
  timeouts: { eventMs?: number; settleMs: number },
): Promise<void> {
  const resources = resourceBaseline();
  const bus = create();
  const seen: number[] = [];
  await bus.subscribe(Job, (payload) => void seen.push(payload.n), { group: 'a', inbox: true });
  await bus.publish(Job, { n: 1 });
  await waitFor(() => seen.length === 1, {
    ...(timeouts.eventMs === undefined ? {} : { timeout: timeouts.eventMs }),
    message: 'the event',
  });
  expect(resources.moreSockets()).toBe(true);
  await bus.stop();
  await resources.settled(timeouts.settleMs);
  await bus.stop();
}
