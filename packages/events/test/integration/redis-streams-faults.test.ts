/**
 * Fault tests of the redis-streams transport: real redis-server processes (killed and restarted) and
 * real consumer processes (killed with SIGKILL).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ServerHandle, startFaultProxy, startRedis, waitFor } from '../../../../test/harness/index.js';
import { createEventBus, defineEvent, type EventBus } from '../../src/index.js';
import { createRedisStreamsTransport } from '../../src/transports/redis-streams/index.js';

const Job = defineEvent('fault.job', z.object({ n: z.number() }));

/** Waits (up to 10 s) until `publisher` publishes job `n` again by itself, once its broker is back. */
function publishesAgain(publisher: EventBus, n: number, message: string): Promise<void> {
  return waitFor(
    async () =>
      await publisher.publish(Job, { n }).then(
        () => true,
        () => false,
      ),
    { timeout: 10_000, message },
  );
}
const FIXTURE = fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const VISIBILITY = 1_500;
const CLAIM = 250;

interface Replica {
  readonly child: ChildProcess;
  readonly started: Map<string, number>;
  readonly done: Map<string, number>;
  readonly exited: Promise<void>;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function startReplica(
  url: string,
  prefix: string,
  overrides: { delayMs?: number; concurrency?: number } = {},
) {
  const config = {
    url,
    prefix,
    group: 'workers',
    concurrency: overrides.concurrency ?? 10,
    delayMs: overrides.delayMs ?? 40,
    visibilityTimeout: VISIBILITY,
    claimInterval: CLAIM,
    block: 1_000,
  };
  const child = fork(FIXTURE, [JSON.stringify(config)], {
    cwd: ROOT,
    execArgv: ['--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  const replica: Replica = {
    child,
    started: new Map(),
    done: new Map(),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await replica.exited;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer did not start in time:\n${stderr}`)), 30_000);
    child.on('message', (message: { type: string; id: string; attempt: number }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (message.type === 'start') replica.started.set(message.id, message.attempt);
      else if (message.type === 'done') replica.done.set(message.id, message.attempt);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`consumer exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return replica;
}

async function ownRedis(options: Parameters<typeof startRedis>[0] = {}): Promise<ServerHandle> {
  const redis = await startRedis({ appendOnly: true, ...options });
  cleanup.push(() => redis.stop());
  return redis;
}

function publisherOn(
  url: string,
  prefix: string,
  extra: Parameters<typeof createRedisStreamsTransport>[0] = {},
): EventBus {
  const bus = createEventBus({
    transport: createRedisStreamsTransport({
      url,
      prefix,
      publishTimeout: 500,
      connectTimeout: 2_000,
      ...extra,
    }),
    groups: [{ event: Job.name, group: 'workers' }],
  });
  cleanup.push(() => bus.stop());
  return bus;
}

function admin(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  cleanup.push(() => client.quit());
  return client;
}

async function pendingCount(client: Redis, prefix: string): Promise<number> {
  const summary = (await client.xpending(`${prefix}:{fault.job}`, 'workers')) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('redis-streams faults', () => {
  it('hands a killed consumer’s in-flight events to the surviving replica within the visibility timeout', async () => {
    const redis = await ownRedis();
    const prefix = 'kill-consumer';
    const publisher = publisherOn(redis.url, prefix);
    await publisher.connect();
    const [doomed, survivor] = await Promise.all([
      startReplica(redis.url, prefix),
      startReplica(redis.url, prefix),
    ]);
    const ids = await publisher.publishMany(
      Job,
      Array.from({ length: 300 }, (_, n) => ({ n })),
    );
    const busy = () => [...doomed.started.keys()].some((id) => !doomed.done.has(id));
    await waitFor(() => doomed.done.size >= 15 && busy(), {
      timeout: 15_000,
      interval: 1,
      message: 'the doomed replica to be in the middle of a batch',
    });
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();
    const inFlight = [...doomed.started.keys()].filter((id) => !doomed.done.has(id));
    expect(inFlight.length).toBeGreaterThan(0);

    const handled = () => new Set([...doomed.done.keys(), ...survivor.done.keys()]);
    await waitFor(() => inFlight.every((id) => survivor.done.has(id)), {
      timeout: 20_000,
      message: 'the survivor to handle the killed replica’s in-flight events',
    });
    const recoveredAfter = Date.now() - killedAt;
    await waitFor(() => handled().size === ids.length, { timeout: 20_000, message: 'every event handled' });
    expect([...handled()].sort()).toEqual([...ids].sort());
    // Claimed after VISIBILITY idle, by a claim loop running every CLAIM ms; generous slack for load.
    expect(recoveredAfter).toBeLessThan(VISIBILITY + CLAIM + 3_000);
    for (const id of inFlight) expect(survivor.done.get(id)).toBeGreaterThanOrEqual(2);
    const client = admin(redis.url);
    await waitFor(async () => (await pendingCount(client, prefix)) === 0, {
      timeout: 10_000,
      message: 'no pending entry',
    });
  });

  for (const how of ['restart', 'SIGKILL'] as const) {
    it(`delivers every event whose publish resolved after a Redis ${how} (AOF on)`, async () => {
      const redis = await ownRedis({ appendFsync: how === 'SIGKILL' ? 'always' : 'everysec' });
      const prefix = `aof-${how}`;
      const publisher = publisherOn(redis.url, prefix);
      const ids: string[] = [];
      for (let n = 0; n < 200; n++) ids.push(await publisher.publish(Job, { n }));
      if (how === 'SIGKILL') await redis.kill('SIGKILL');
      await redis.restart();
      const consumer = createEventBus({
        transport: createRedisStreamsTransport({
          url: redis.url,
          prefix,
          claimInterval: CLAIM,
          visibilityTimeout: VISIBILITY,
        }),
      });
      cleanup.push(() => consumer.stop());
      const seen = new Set<string>();
      await consumer.subscribe(Job, (_p, meta) => void seen.add(meta.id), { group: 'workers' });
      await waitFor(() => seen.size === ids.length, {
        timeout: 15_000,
        message: 'all 200 events after the restart',
      });
      expect([...seen].sort()).toEqual([...ids].sort());
      await publishesAgain(publisher, 999, 'the publisher to reconnect by itself');
    });
  }

  it('resumes consumers blocked in XREADGROUP after Redis is killed and restarted, leaving nothing pending', async () => {
    const redis = await ownRedis({ appendFsync: 'always' });
    const prefix = 'kill-redis';
    const publisher = publisherOn(redis.url, prefix);
    await publisher.connect();
    const replicas = await Promise.all([
      startReplica(redis.url, prefix, { delayMs: 5 }),
      startReplica(redis.url, prefix, { delayMs: 5 }),
    ]);
    const handled = () => new Set(replicas.flatMap((r) => [...r.done.keys()]));
    const stored: string[] = [];
    for (let n = 0; n < 20; n++) stored.push(await publisher.publish(Job, { n }));
    await waitFor(() => handled().size === 20, { timeout: 10_000, message: 'the first 20 events' });

    // Kill Redis while both replicas sit in a blocking XREADGROUP, with events still flowing.
    let publishing = true;
    const flow = (async () => {
      for (let n = 100; publishing; n++) {
        await publisher.publish(Job, { n }).then(
          (id) => void stored.push(id),
          () => new Promise((resolve) => setTimeout(resolve, 20)),
        );
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await redis.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.restart();
    await waitFor(() => stored.length >= 80, { timeout: 15_000, message: 'publishing to resume' });
    publishing = false;
    await flow;

    await waitFor(() => stored.every((id) => handled().has(id)), {
      timeout: 20_000,
      message: 'every event whose publish resolved to be handled',
    });
    const client = admin(redis.url);
    await new Promise((resolve) => setTimeout(resolve, VISIBILITY + 2 * CLAIM));
    await waitFor(async () => (await pendingCount(client, prefix)) === 0, {
      timeout: 5_000,
      message: 'no entry left pending after one claim cycle',
    });
  });

  it('never trims pending or undelivered entries, even with more of them than maxLen', async () => {
    const redis = await ownRedis({ args: ['--stream-node-max-entries', '10'] });
    const url = redis.url;
    const prefix = 'trim-safe';
    const publisher = publisherOn(url, prefix, { maxLen: 10, trimInterval: 50 });
    await publisher.connect();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consumer = createEventBus({
      transport: createRedisStreamsTransport({
        url,
        prefix,
        claimInterval: CLAIM,
        visibilityTimeout: 60_000,
      }),
    });
    cleanup.push(() => consumer.stop());
    const seen = new Set<string>();
    let started = 0;
    await consumer.subscribe(
      Job,
      async (_p, meta) => {
        started++;
        await gate;
        seen.add(meta.id);
      },
      { group: 'workers', concurrency: 25 },
    );
    const ids = await publisher.publishMany(
      Job,
      Array.from({ length: 100 }, (_, n) => ({ n })),
    );
    await waitFor(() => started === 25, { message: '25 entries pending' });
    const client = admin(url);
    const stream = `${prefix}:{fault.job}`;
    for (let i = 0; i < 5; i++) {
      await publisher.publish(Job, { n: 1_000 + i }).then((id) => ids.push(id));
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expect(await client.xlen(stream)).toBe(105);
    expect(await pendingCount(client, prefix)).toBe(25);
    release();
    await waitFor(() => seen.size === ids.length, { timeout: 10_000, message: 'all 105 events handled' });
    expect([...seen].sort()).toEqual([...ids].sort());
    await publisher.publish(Job, { n: 2_000 });
    await waitFor(async () => (await client.xlen(stream)) <= 30, {
      message: 'the stream to be trimmed once acked',
    });
    expect(publisher.stats().transport.dropped).toBe(0);
  });

  it('in capped mode trims to maxLen anyway and counts the pending and undelivered entries it dropped', async () => {
    const redis = await ownRedis({ args: ['--stream-node-max-entries', '10'] });
    const prefix = 'trim-capped';
    const publisher = publisherOn(redis.url, prefix, { maxLen: 10, trimInterval: 50, trim: 'capped' });
    await publisher.connect();
    await publisher.publishMany(
      Job,
      Array.from({ length: 60 }, (_, n) => ({ n })),
    );
    await waitFor(() => publisher.stats().transport.dropped! > 0, { message: 'capped trimming to run' });
    const client = admin(redis.url);
    expect(await client.xlen(`${prefix}:{fault.job}`)).toBe(10);
    expect(publisher.stats().transport.dropped).toBe(50);
    expect(await client.hget(`${prefix}:{fault.job}:counters`, 'dropped')).toBe('50');
  });

  it('rejects publish with a coded error within a bounded time when Redis is down or silent', async () => {
    const redis = await ownRedis();
    const proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
    cleanup.push(() => proxy.close());
    const publisher = publisherOn(proxy.url('redis'), 'down', { publishTimeout: 300 });
    await publisher.publish(Job, { n: 1 });

    await proxy.setMode('blackhole');
    let started = Date.now();
    const silent = await publisher.publish(Job, { n: 2 }).catch((e: unknown) => e);
    expect(silent).toMatchObject({ code: 'EVENTS_PUBLISH_TIMEOUT', details: { maybeStored: true } });
    expect(Date.now() - started).toBeLessThan(1_500);

    await proxy.setMode('reset');
    await new Promise((resolve) => setTimeout(resolve, 100));
    started = Date.now();
    const down = await publisher.publish(Job, { n: 3 }).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'EVENTS_BROKER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1_000);

    const unreachable = createEventBus({
      transport: createRedisStreamsTransport({
        url: proxy.url('redis'),
        prefix: 'down',
        connectTimeout: 300,
      }),
    });
    started = Date.now();
    await expect(unreachable.connect()).rejects.toMatchObject({ code: 'EVENTS_BROKER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2_000);
    await unreachable.stop();

    await proxy.setMode('pass');
    await publishesAgain(publisher, 4, 'the publisher to recover by itself');
  });
});
