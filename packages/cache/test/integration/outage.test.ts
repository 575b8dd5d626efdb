import { redisStore } from '@blueprint/cache/stores/redis';
import { tieredStore } from '@blueprint/cache/stores/tiered';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { startFaultProxy, startRedis } from '../../../../test/harness/index.js';
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

describe('cache when Redis fails', () => {
  it('keeps answering while Redis is killed, fails fast once the breaker opens, and recovers', async () => {
    const server = await startRedis();
    cleanups.push(() => server.stop());
    const { store, cache } = await outageCache(
      redisStore({ url: server.url, ...outageStoreOptions('300ms') }),
    );
    await warm(cache, ['k']);

    await server.kill();
    const during = await timedCalls(
      50,
      () => cache.getOrSet('k', async () => 'loaded', { ttl: '1m' }),
      'loaded',
    );
    expect(store.breakerState).not.toBe('closed');
    expectWithinCommandTimeout(during);
    expect((await cache.health()).ok).toBe(false);
    console.log('[cache outage] Redis killed, per call while down:', summarize(during));

    await server.restart();
    await waitFor(
      async () => {
        await cache.getOrSet('after', async () => 'v', { ttl: '1m' });
        return store.breakerState === 'closed' && (await cache.get('after')) === 'v';
      },
      { timeout: 10_000, interval: 50, message: 'the cache to use Redis again' },
    );
    expect((await cache.health()).ok).toBe(true);
  });

  it('bounds the wait on a Redis that stops answering by the command timeout, then near zero', async () => {
    const url = new URL(inject('redisUrl'));
    const proxy = await startFaultProxy({ target: { host: url.hostname, port: Number(url.port) } });
    cleanups.push(() => proxy.close());
    const { store, cache } = await outageCache(
      redisStore({ url: proxy.url('redis'), ...outageStoreOptions('1s') }),
    );
    await warm(cache, ['k']);

    await expectSilenceBounded(proxy, store, cache, { server: 'Redis', probeKey: 'k', openMedianMs: 1 });
  });

  it('a tiered store serves L1 through a silent Redis and drops L1 once the channel is back', async () => {
    const url = new URL(inject('redisUrl'));
    const proxy = await startFaultProxy({ target: { host: url.hostname, port: Number(url.port) } });
    cleanups.push(() => proxy.close());
    const options = outageStoreOptions('300ms');
    const other = tieredStore({ url: url.toString(), prefix: options.prefix, commandTimeout: '1s' });
    cleanups.push(() => other.close());
    await other.connect();
    const { store, cache } = await outageCache(
      tieredStore({ url: proxy.url('redis'), ...options, heartbeat: '100ms' }),
    );
    let db = 'v1';
    const loader = async () => db;
    expect(await cache.getOrSet('k', loader, { ttl: '1m' })).toBe('v1');
    expect(store.l1.has('k')).toBe(true);

    await proxy.setMode('blackhole');
    const l1Hits = await timedCalls(100, () => cache.getOrSet('k', loader, { ttl: '1m' }), 'v1');
    console.log('[cache outage] tiered, Redis silent, per call (L1 serves):', summarize(l1Hits));
    const missed = await timed(() => cache.getOrSet('other-key', async () => 'loaded', { ttl: '1m' }));
    expect(missed.value).toBe('loaded');
    expectWithinCommandTimeout([missed.ms]);

    db = 'v2';
    await other.set('k', 'v2', { freshUntil: Date.now() + 60_000, expiresAt: Date.now() + 60_000 });
    await waitFor(() => !store.listening, { message: 'the heartbeat to notice the silent channel' });
    const clears = store.stats().l1Clears;
    await proxy.setMode('pass');
    await waitFor(() => store.listening && store.stats().l1Clears > clears, {
      timeout: 10_000,
      message: 'the channel to come back and L1 to be dropped',
    });
    await waitFor(async () => (await cache.getOrSet('k', loader, { ttl: '1m' })) === 'v2', {
      timeout: 5_000,
      message: 'the value written during the outage to be read',
    });
  });
});
