import { isCacheError } from '@blueprint/cache';
import { memcachedStore } from '@blueprint/cache/stores/memcached';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, it } from 'vitest';
import { startFaultProxy, startMemcached } from '../../../../test/harness/index.js';
import {
  cleanups,
  expectSilenceBounded,
  expectWithinCommandTimeout,
  outageCache,
  outageStoreOptions,
  summarize,
  timed,
  timedCalls,
  warm,
} from './support/outage.js';

const CALLERS = 100;
const TWO_SERVER_TIMEOUT = 250;

/** A connected cache over a memcached store on `servers` with the outage tests' options. */
const memcachedCache = (servers: string[], openFor = '300ms', commandTimeout?: number) =>
  outageCache(memcachedStore({ servers, ...outageStoreOptions(openFor, commandTimeout) }));

const keys = Array.from({ length: CALLERS }, (_, i) => `product:${i}`);

describe('cache when memcached fails', () => {
  it(`keeps answering ${CALLERS} concurrent callers while memcached is killed, reports it, and recovers`, async () => {
    const server = await startMemcached();
    cleanups.push(() => server.stop());
    const { store, cache, errors } = await memcachedCache([server.address]);
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
    expectWithinCommandTimeout(waits);
    expect(store.breakerState).toBe('open');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((error) => isCacheError(error, 'CACHE_STORE_UNAVAILABLE'))).toBe(true);
    expect((await cache.health()).ok).toBe(false);
    console.log(`[memcached outage] killed, ${CALLERS} concurrent callers:`, summarize(waits));

    const sequential = await timedCalls(
      50,
      (i) => cache.getOrSet(keys[i]!, async () => 'again', { ttl: '10m' }),
      'again',
    );
    expectWithinCommandTimeout(sequential);
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
    const { store, cache, errors } = await memcachedCache([`${proxy.host}:${proxy.port}`], '1s');
    await warm(cache, ['k']);

    await expectSilenceBounded(proxy, store, cache, {
      server: 'memcached',
      probeKey: 'probe',
      openMedianMs: 5,
    });
    expect(
      errors.some((error) => (error as { details?: { reason?: string } }).details?.reason === 'timeout'),
    ).toBe(true);
  });

  it('with two servers, one killed: its keys miss and reload, the other server’s keys still hit', async () => {
    const [a, b] = await Promise.all([startMemcached(), startMemcached()]);
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    // A longer command timeout: the other server's keys must hit even on a loaded machine.
    const { store, cache } = await memcachedCache([a.address, b.address], '300ms', TWO_SERVER_TIMEOUT);
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
    expectWithinCommandTimeout(
      answers.map(({ ms }) => ms),
      TWO_SERVER_TIMEOUT,
    );
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
