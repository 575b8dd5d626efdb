/**
 * What the broker fault tests (`kafka-faults`, `nats-faults`) share: the job events, a replica child
 * process, publishing under faults with retries, a stopped (SIGSTOP) server, and the checks of a
 * mid-stream kill and of the dead letters a poison and an invalid event leave.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../../test/harness/index.js';
import { defineEvent } from '../../../src/define-event.js';
import { isEventsError } from '../../../src/errors.js';
import type { EventBus } from '../../../src/event-bus.js';

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

/** Forks `script` with `args`, adds it to `children` (killed after each test) and waits until it has subscribed. */
export async function startReplicaChild(
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

/** Kills with -9 every child still running (for `afterEach`). */
export function killChildren(children: readonly ChildProcess[]): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
export function publishThroughFaults(publisher: EventBus, count: number) {
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
export function expectMidstreamOutcome(
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
export async function countRuns(consumer: EventBus, group: string): Promise<Map<string, number>> {
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
