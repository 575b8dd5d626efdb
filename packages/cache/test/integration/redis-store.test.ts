import { randomUUID } from 'node:crypto';
import { createCache, isCacheError } from '@blueprint/cache';
import { redisStore } from '@blueprint/cache/stores/redis';
import { describeCacheStoreConformance } from '@blueprint/cache/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getFreePort } from '../../../../test/harness/index.js';

const url = inject('redisUrl');
const prefix = () => `test:${randomUUID()}:`;

describeCacheStoreConformance('redis', {
  create: () => redisStore({ url, prefix: prefix(), commandTimeout: '1s', lock: { ttl: '2s' } }),
});

describe('redis store', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(url);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('keeps entries under its prefix with a Redis TTL, and clear() touches nothing else', async () => {
    const p = prefix();
    const store = redisStore({ url, prefix: p, commandTimeout: '1s' });
    const other = redisStore({ url, prefix: prefix(), commandTimeout: '1s' });
    await Promise.all([store.connect(), other.connect()]);
    const freshUntil = Date.now() + 60_000;
    await store.set('k', { a: 1 }, { freshUntil, expiresAt: freshUntil + 30_000, tags: ['t'] });
    await other.set('k', 'other', { freshUntil, expiresAt: freshUntil });
    const ttl = await admin.pttl(`${p}k:k`);
    expect(ttl).toBeGreaterThan(85_000);
    expect(ttl).toBeLessThanOrEqual(90_000);
    expect(await admin.pttl(`${p}t:t`)).toBeGreaterThan(85_000);
    expect(await admin.smembers(`${p}t:t`)).toEqual(['k']);
    await store.clear();
    expect(await admin.keys(`${p}*`)).toEqual([]);
    expect((await other.get('k'))?.value).toBe('other');
    await other.clear();
    await Promise.all([store.close(), other.close()]);
  });

  it('treats an entry it cannot read as a miss and reports CACHE_ENTRY_CORRUPT', async () => {
    const p = prefix();
    const errors: unknown[] = [];
    const cache = createCache({
      store: redisStore({ url, prefix: p, commandTimeout: '1s' }),
      onError: (error) => errors.push(error),
    });
    await cache.connect();
    await admin.set(`${p}k:bad`, 'not an entry');
    await admin.set(`${p}k:bad2`, '1,2|{"$bp":"nope","v":1}');
    expect(await cache.getOrSet('bad', async () => 'loaded', { ttl: '1m' })).toBe('loaded');
    expect(await cache.getOrSet('bad', async () => 'again', { ttl: '1m' })).toBe('loaded');
    expect(await cache.getOrSet('bad2', async () => 'loaded', { ttl: '1m' })).toBe('loaded');
    expect(errors.filter((e) => isCacheError(e, 'CACHE_ENTRY_CORRUPT'))).toHaveLength(2);
    await cache.clear();
    await cache.close();
  });

  it('round-trips Dates and bigints through Redis', async () => {
    const cache = createCache({ store: redisStore({ url, prefix: prefix(), commandTimeout: '1s' }) });
    await cache.connect();
    const value = { at: new Date('2030-01-01T00:00:00.123Z'), amount: 123456789012345678901234567890n };
    await cache.set('money', value, { ttl: '1m' });
    const read = await cache.get<typeof value>('money');
    expect(read?.at).toBeInstanceOf(Date);
    expect(read?.at.getTime()).toBe(value.at.getTime());
    expect(read?.amount).toBe(value.amount);
    await cache.clear();
    await cache.close();
  });

  it('runs the loader once for 1,000 concurrent misses', async () => {
    const cache = createCache({ store: redisStore({ url, prefix: prefix(), commandTimeout: '1s' }) });
    await cache.connect();
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { n: runs };
    };
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => cache.getOrSet('hot', loader, { ttl: '1m' })),
    );
    expect(runs).toBe(1);
    expect(results.every((r) => r.n === 1)).toBe(true);
    await cache.clear();
    await cache.close();
  });

  it('with the lock, two processes missing the same key load it once', async () => {
    const p = prefix();
    const a = createCache({
      store: redisStore({ url, prefix: p, commandTimeout: '1s', lock: { ttl: '2s', wait: '2s' } }),
    });
    const b = createCache({
      store: redisStore({ url, prefix: p, commandTimeout: '1s', lock: { ttl: '2s', wait: '2s' } }),
    });
    await Promise.all([a.connect(), b.connect()]);
    let runs = 0;
    const loader = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'value';
    };
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => a.getOrSet('k', loader, { ttl: '1m' })),
      ...Array.from({ length: 50 }, () => b.getOrSet('k', loader, { ttl: '1m' })),
    ]);
    expect(runs).toBe(1);
    expect(new Set(results)).toEqual(new Set(['value']));
    await a.clear();
    await Promise.all([a.close(), b.close()]);
  });

  it('starts and answers through the loader when Redis is not there, and says so in health', async () => {
    const port = await getFreePort();
    const cache = createCache({
      store: redisStore({ url: `redis://127.0.0.1:${port}`, connectTimeout: '300ms' }),
    });
    const started = Date.now();
    await cache.connect();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await cache.getOrSet('k', async () => 'from loader', { ttl: '1m' })).toBe('from loader');
    const health = await cache.health();
    expect(health.ok).toBe(false);
    await cache.close();
  });
});
