import { randomUUID } from 'node:crypto';
import { type Cache, createCache, isCacheError } from '@blueprint/cache';
import { type MemcachedStore, memcachedStore } from '@blueprint/cache/stores/memcached';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, it } from 'vitest';
import { startFaultProxy, startMemcached } from '../../../../test/harness/index.js';
import {
  COMMAND_TIMEOUT,
  callsThroughSilence,
  cleanups,
  expectCommandTimeoutWaits,
  expectRecoveryAfterSilence,
  SLACK,
  summarize,
  timed,
} from './support/outage.js';

const CALLERS = 100;
const TWO_SERVER_TIMEOUT = 250;

function outageCache(servers: string[], openFor = '300ms', commandTimeout = COMMAND_TIMEOUT) {
  const errors: unknown[] = [];
  const store: MemcachedStore = memcachedStore({
    servers,
    prefix: `test:${randomUUID().slice(0, 8)}:`,
    commandTimeout,
    breaker: { threshold: 3, openFor },
  });
  const cache = createCache({ store, onError: (error) => errors.push(error) });
  cleanups.push(() => cache.close());
  return { store, cache, errors };
}

/** Stores `keys` and reads them back, retrying: a 50 ms command timeout can trip on a loaded machine. */
async function warm(cache: Cache, keys: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      await Promise.all(keys.map((key) => cache.set(key, `cached ${key}`, { ttl: '10m' })));
      const read = await Promise.all(keys.map((key) => cache.get(key)));
      return read.every((value, i) => value === `cached ${keys[i]}`);
    },
    { timeout: 10_000, interval: 50, message: 'the cache to store and read the keys' },
  );
}

const keys = Array.from({ length: CALLERS }, (_, i) => `product:${i}`);

describe('cache when memcached fails', () => {
  it(`keeps answering ${CALLERS} concurrent callers while memcached is killed, reports it, and recovers`, async () => {
    const server = await startMemcached();
    cleanups.push(() => server.stop());
    const { store, cache, errors } = outageCache([server.address]);
    await cache.connect();
    await warm(cache, keys);

    // Killed while the callers read: each gets the cached value (answered before) or the loader's.
    const racing = Promise.all(
      keys.map((key) => timed(() => cache.getOrSet(key, async () => `loaded ${key}`, { ttl: '10m' }))),
    );
    await server.kill();
    const during = await racing;
    for (const [i, { value }] of during.entries())
      expect([`cached ${keys[i]}`, `loaded ${keys[i]}`]).toContain(value);

    const after = await Promise.all(
      keys.map((key) => timed(() => cache.getOrSet(key, async () => `loaded ${key}`, { ttl: '10m' }))),
    );
    for (const [i, { value }] of after.entries()) expect(value).toBe(`loaded ${keys[i]}`);
    const waits = after.map(({ ms }) => ms);
    expect(Math.max(...waits)).toBeLessThan(COMMAND_TIMEOUT + SLACK);
    expect(store.breakerState).toBe('open');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((error) => isCacheError(error, 'CACHE_STORE_UNAVAILABLE'))).toBe(true);
    expect((await cache.health()).ok).toBe(false);
    console.log(`[memcached outage] killed, ${CALLERS} concurrent callers:`, summarize(waits));

    const sequential: number[] = [];
    for (const key of keys.slice(0, 50)) {
      const { value, ms } = await timed(() => cache.getOrSet(key, async () => 'again', { ttl: '10m' }));
      expect(value).toBe('again');
      sequential.push(ms);
    }
    expect(Math.max(...sequential)).toBeLessThan(COMMAND_TIMEOUT + SLACK);
    console.log('[memcached outage] killed, one call at a time:', summarize(sequential));

    await server.restart();
    await waitFor(
      async () => {
        await cache.set('after', 'stored', { ttl: '1m' });
        return store.breakerState === 'closed' && (await cache.get('after')) === 'stored';
      },
      { timeout: 10_000, interval: 50, message: 'the cache to use memcached again' },
    );
    expect((await cache.health()).ok).toBe(true);
    let loads = 0;
    await cache.getOrSet('fresh', async () => ++loads, { ttl: '1m' });
    await cache.getOrSet('fresh', async () => ++loads, { ttl: '1m' });
    expect(loads).toBe(1);
  });

  it('bounds the wait on a memcached that stops answering by the command timeout, then near zero', async () => {
    const server = await startMemcached();
    cleanups.push(() => server.stop());
    const proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    cleanups.push(() => proxy.close());
    const { store, cache, errors } = outageCache([`${proxy.host}:${proxy.port}`], '1s');
    await cache.connect();
    await warm(cache, ['k']);
    const loader = async () => 'loaded';

    await proxy.setMode('blackhole');
    const { waiting, open } = await callsThroughSilence(store, cache, loader);
    console.log('[memcached outage] silent, per call within the command timeout:', summarize(waiting));
    console.log('[memcached outage] silent, per call once the breaker is open:', summarize(open));
    expectCommandTimeoutWaits(waiting);
    expect(summarize(open).p50Ms).toBeLessThan(5);
    expect(
      errors.some((error) => (error as { details?: { reason?: string } }).details?.reason === 'timeout'),
    ).toBe(true);

    await expectRecoveryAfterSilence(proxy, store, cache, { key: 'probe', loader, server: 'memcached' });
  });

  it('with two servers, one killed: its keys miss and reload, the other server’s keys still hit', async () => {
    const [a, b] = await Promise.all([startMemcached(), startMemcached()]);
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    // A longer command timeout: the other server's keys must hit even on a loaded machine.
    const { store, cache } = outageCache([a.address, b.address], '300ms', TWO_SERVER_TIMEOUT);
    await cache.connect();
    await warm(cache, keys);
    const onA = keys.filter((key) => store.serverFor(key) === a.address);
    const onB = keys.filter((key) => store.serverFor(key) === b.address);
    expect(onA.length).toBeGreaterThan(10);
    expect(onB.length).toBeGreaterThan(10);

    await a.kill();
    const loaded: string[] = [];
    const answers = await Promise.all(
      keys.map((key) =>
        timed(() =>
          cache.getOrSet(
            key,
            async () => {
              loaded.push(key);
              return `loaded ${key}`;
            },
            { ttl: '10m' },
          ),
        ),
      ),
    );
    expect(new Set(loaded)).toEqual(new Set(onA));
    for (const [i, { value }] of answers.entries()) {
      const key = keys[i]!;
      expect(value).toBe(onA.includes(key) ? `loaded ${key}` : `cached ${key}`);
    }
    expect(Math.max(...answers.map(({ ms }) => ms))).toBeLessThan(TWO_SERVER_TIMEOUT + SLACK);
    expect(store.breakerStateOf(a.address)).toBe('open');
    expect(store.breakerStateOf(b.address)).toBe('closed');
    const health = await store.health();
    expect(health.ok).toBe(false);
    expect((health.details as { servers: Record<string, { ok: boolean }> }).servers[b.address]?.ok).toBe(
      true,
    );

    await a.restart();
    await waitFor(
      async () => {
        await cache.set(onA[0]!, 'back', { ttl: '1m' });
        return store.breakerStateOf(a.address) === 'closed' && (await cache.get(onA[0]!)) === 'back';
      },
      { timeout: 10_000, interval: 50, message: 'the store to use the restarted server again' },
    );
    expect(await cache.get(onB[0]!)).toBe(`cached ${onB[0]}`);
  });
});
