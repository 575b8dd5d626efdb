import { randomUUID } from 'node:crypto';
import { type Cache, createCache } from '@blueprint/cache';
import { type RedisStore, redisStore } from '@blueprint/cache/stores/redis';
import { type TieredStore, tieredStore } from '@blueprint/cache/stores/tiered';
import { waitFor } from '@blueprint/core/testing';
import { describe, expect, inject, it } from 'vitest';
import { startFaultProxy, startRedis } from '../../../../test/harness/index.js';
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

/** Stores `k` and reads it back, retrying: a 50 ms command timeout can trip on a loaded machine. */
async function warm(cache: Cache): Promise<void> {
  await waitFor(
    async () => {
      await cache.set('k', 'cached', { ttl: '1m' });
      return (await cache.getOrSet('k', async () => 'loaded', { ttl: '1m' })) === 'cached';
    },
    { timeout: 10_000, interval: 50, message: 'the cache to store and read k' },
  );
}

describe('cache when Redis fails', () => {
  it('keeps answering while Redis is killed, fails fast once the breaker opens, and recovers', async () => {
    const server = await startRedis();
    cleanups.push(() => server.stop());
    const store = redisStore({
      url: server.url,
      prefix: `test:${randomUUID()}:`,
      commandTimeout: COMMAND_TIMEOUT,
      breaker: { threshold: 3, openFor: '300ms' },
    });
    const cache = createCache({ store });
    cleanups.push(() => cache.close());
    await cache.connect();
    await warm(cache);

    await server.kill();
    const during: number[] = [];
    for (let i = 0; i < 50; i++) {
      const { value, ms } = await timed(() => cache.getOrSet('k', async () => 'loaded', { ttl: '1m' }));
      expect(value).toBe('loaded');
      during.push(ms);
    }
    expect(store.breakerState).not.toBe('closed');
    expect(Math.max(...during)).toBeLessThan(COMMAND_TIMEOUT + SLACK);
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
    const store: RedisStore = redisStore({
      url: proxy.url('redis'),
      prefix: `test:${randomUUID()}:`,
      commandTimeout: COMMAND_TIMEOUT,
      breaker: { threshold: 3, openFor: '1s' },
    });
    const cache = createCache({ store });
    cleanups.push(() => cache.close());
    await cache.connect();
    const loader = async () => 'loaded';
    await warm(cache);

    await proxy.setMode('blackhole');
    const { waiting, open } = await callsThroughSilence(store, cache, loader);
    const whileWaiting = summarize(waiting);
    const whileOpen = summarize(open);
    console.log('[cache outage] Redis silent, per call within the command timeout:', whileWaiting);
    console.log('[cache outage] Redis silent, per call once the breaker is open:', whileOpen);
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expectCommandTimeoutWaits(waiting);
    expect(whileOpen.p50Ms).toBeLessThan(1);

    await expectRecoveryAfterSilence(proxy, store, cache, { key: 'k', loader, server: 'Redis' });
  });

  it('a tiered store serves L1 through a silent Redis and drops L1 once the channel is back', async () => {
    const url = new URL(inject('redisUrl'));
    const proxy = await startFaultProxy({ target: { host: url.hostname, port: Number(url.port) } });
    cleanups.push(() => proxy.close());
    const prefix = `test:${randomUUID()}:`;
    const store: TieredStore = tieredStore({
      url: proxy.url('redis'),
      prefix,
      commandTimeout: COMMAND_TIMEOUT,
      heartbeat: '100ms',
      breaker: { threshold: 3, openFor: '300ms' },
    });
    const other = tieredStore({ url: url.toString(), prefix, commandTimeout: '1s' });
    const cache = createCache({ store });
    cleanups.push(
      () => cache.close(),
      () => other.close(),
    );
    await Promise.all([cache.connect(), other.connect()]);
    let db = 'v1';
    const loader = async () => db;
    expect(await cache.getOrSet('k', loader, { ttl: '1m' })).toBe('v1');
    expect(store.l1.has('k')).toBe(true);

    await proxy.setMode('blackhole');
    const l1Hits: number[] = [];
    for (let i = 0; i < 100; i++) {
      const { value, ms } = await timed(() => cache.getOrSet('k', loader, { ttl: '1m' }));
      expect(value).toBe('v1');
      l1Hits.push(ms);
    }
    console.log('[cache outage] tiered, Redis silent, per call (L1 serves):', summarize(l1Hits));
    const missed = await timed(() => cache.getOrSet('other-key', async () => 'loaded', { ttl: '1m' }));
    expect(missed.value).toBe('loaded');
    expect(missed.ms).toBeLessThan(COMMAND_TIMEOUT + SLACK);

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
