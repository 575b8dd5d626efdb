import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type TieredStore, tieredStore } from '@blueprint/cache/stores/tiered';
import { describeCacheStoreConformance } from '@blueprint/cache/testing';
import { waitFor } from '@blueprint/core/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

const url = inject('redisUrl');
const prefix = () => `test:${randomUUID()}:`;
const HOUR = 3_600_000;
const fresh = () => ({ freshUntil: Date.now() + HOUR, expiresAt: Date.now() + HOUR });

/**
 * Waits until `store` received `count` invalidations: a message for a write may land after the other
 * process already read the new value (it then drops that copy too, which is safe), so tests that
 * check L1 contents first let the messages settle.
 */
const received = (store: TieredStore, count: number) =>
  waitFor(() => store.stats().invalidationsReceived >= count, { message: `${count} invalidations received` });

describeCacheStoreConformance('tiered', {
  create: () => tieredStore({ url, prefix: prefix(), commandTimeout: '1s', lock: {} }),
});

describe('tiered store across processes', () => {
  let admin: Redis;
  const open: TieredStore[] = [];
  const pair = async () => {
    const p = prefix();
    const a = tieredStore({ url, prefix: p, commandTimeout: '1s' });
    const b = tieredStore({ url, prefix: p, commandTimeout: '1s' });
    open.push(a, b);
    await Promise.all([a.connect(), b.connect()]);
    return { a, b, prefix: p };
  };

  beforeAll(() => {
    admin = new Redis(url);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map(async (store) => store.close()));
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('serves L1 hits synchronously, and a write in one process drops the L1 copy in the other', async () => {
    const { a, b } = await pair();
    await a.set('k', 'v1', fresh());
    await received(b, 1);
    expect((await b.get('k'))?.value).toBe('v1');
    expect(b.l1.has('k')).toBe(true);
    expect(b.get('k')).not.toBeInstanceOf(Promise);
    await a.set('k', 'v2', fresh());
    await waitFor(() => !b.l1.has('k'), { message: 'B to drop its L1 copy' });
    expect((await b.get('k'))?.value).toBe('v2');
  });

  it('delete and tag invalidation in one process clear the L1 copies in the other', async () => {
    const { a, b } = await pair();
    await a.set('p1', 1, { ...fresh(), tags: ['products'] });
    await a.set('p2', 2, { ...fresh(), tags: ['products'] });
    await a.set('o1', 3, fresh());
    await received(b, 3);
    for (const key of ['p1', 'p2', 'o1']) await b.get(key);
    expect(b.l1.size).toBe(3);
    await a.invalidateTags(['products']);
    await waitFor(() => !b.l1.has('p1') && !b.l1.has('p2'), { message: 'B to drop tagged entries' });
    expect(b.l1.has('o1')).toBe(true);
    await a.delete(['o1']);
    await waitFor(() => !b.l1.has('o1'), { message: 'B to drop the deleted entry' });
    expect(await b.get('o1')).toBeUndefined();
    await b.set('x', 1, fresh());
    await received(a, 1);
    await a.get('x');
    await b.clear();
    await waitFor(() => a.l1.size === 0, { message: 'A to clear its L1' });
  });

  it('a read from L2 overtaken by an invalidation does not fill L1', async () => {
    const { a } = await pair();
    await a.set('k', 'old', fresh());
    a.l1.deleteNow(['k']);
    const reading = a.get('k');
    const deleting = a.delete(['k']);
    expect((await reading)?.value).toBe('old');
    await deleting;
    expect(a.l1.has('k')).toBe(false);
    expect(await a.get('k')).toBeUndefined();
  });

  it('drops L1 when the invalidation channel reconnects (pub/sub is at-most-once)', async () => {
    const { a, b } = await pair();
    await a.set('k', 'v', fresh());
    await received(b, 1);
    await b.get('k');
    expect(b.l1.has('k')).toBe(true);
    const clears = b.stats().l1Clears;
    await admin.client('KILL', 'TYPE', 'pubsub');
    await waitFor(() => b.stats().l1Clears > clears && b.listening, {
      message: 'B to resubscribe and clear L1',
      timeout: 10_000,
    });
    expect(b.l1.has('k')).toBe(false);
    expect((await b.get('k'))?.value).toBe('v');
    await a.set('k', 'v2', fresh());
    await waitFor(() => !b.l1.has('k'), { message: 'invalidations to flow again after the reconnect' });
  });

  it('a write in this process clears the L1 copy in a real child process', async () => {
    const p = prefix();
    const a = tieredStore({ url, prefix: p, commandTimeout: '1s' });
    open.push(a);
    await a.connect();
    const child = await startChild(p);
    try {
      await a.set('shared', { v: 1 }, fresh());
      await waitFor(
        async () =>
          ((await child.request('stats')) as { invalidationsReceived: number }).invalidationsReceived === 1,
      );
      expect(await child.request('read', 'shared')).toEqual({ v: 1 });
      expect(await child.request('has', 'shared')).toBe(true);
      await a.set('shared', { v: 2 }, fresh());
      await waitFor(async () => (await child.request('has', 'shared')) === false, {
        message: 'the child to drop its L1 copy',
      });
      expect(await child.request('read', 'shared')).toEqual({ v: 2 });
      await a.delete(['shared']);
      await waitFor(async () => (await child.request('read', 'shared')) === null, {
        message: 'the child to see the delete',
      });
      expect(await child.request('stats')).toMatchObject({ invalidationsReceived: 3 });
    } finally {
      await child.stop();
    }
  });
});

interface Child {
  request(type: string, key?: string): Promise<unknown>;
  stop(): Promise<void>;
}

function startChild(cachePrefix: string): Promise<Child> {
  const script = fileURLToPath(new URL('./fixtures/tiered-child.ts', import.meta.url));
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    env: { ...process.env, REDIS_URL: url, CACHE_PREFIX: cachePrefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 1;
  const pending = new Map<number, (data: unknown) => void>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the child process did not start within 20 s'));
    }, 20_000);
    child.once('exit', (code) => reject(new Error(`the child process exited with code ${code}`)));
    child.on('message', (message: { id: number; data: unknown }) => {
      if (message.id === 0) {
        clearTimeout(timer);
        resolve({
          request: (type, key) =>
            new Promise((done) => {
              const id = next++;
              pending.set(id, done);
              child.send({ id, type, key });
            }),
          stop: async () => {
            const exited = new Promise((done) => child.once('exit', done));
            child.send({ id: next++, type: 'stop' });
            const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(killer);
          },
        });
        return;
      }
      pending.get(message.id)?.(message.data);
      pending.delete(message.id);
    });
  });
}
