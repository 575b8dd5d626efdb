// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topology files spell environment references as ${VAR}
import { parseTopology } from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { isCacheError } from '../../errors.js';
import { cachePlugin } from '../../plugin.js';
import { memcachedStore } from './index.js';
import { memcachedStoreSchema } from './options.js';

const parse = (cache: unknown, env: Record<string, string> = {}) =>
  parseTopology(
    { app: 'x', processes: { main: { services: [] } }, cache },
    { sections: [cachePlugin().section!], env },
  ).sections.cache;

describe('memcached store options', () => {
  it('parse with their defaults in the topology section', () => {
    expect(parse({ type: 'memcached', servers: ['127.0.0.1:11211'] })).toEqual({
      type: 'memcached',
      servers: ['127.0.0.1:11211'],
      commandTimeout: 50,
      connectTimeout: 1_000,
      maxItemSize: 1_048_576,
      breaker: { threshold: 3, openFor: 2_000 },
    });
  });

  it('read servers from one comma-separated environment value', () => {
    const section = parse(
      { type: 'memcached', servers: '${MEMCACHED_SERVERS:-127.0.0.1:11211}', maxItemSize: '2mb', lock: {} },
      { MEMCACHED_SERVERS: '10.0.0.5:11211, 10.0.0.6:11211' },
    );
    expect(section).toMatchObject({
      servers: ['10.0.0.5:11211', '10.0.0.6:11211'],
      maxItemSize: 2 * 1_048_576,
      lock: { ttl: 2_000, wait: 1_000 },
    });
  });

  it('refuse unknown keys, bad servers, a server listed twice and bad prefixes, naming the path', () => {
    expect(() => parse({ type: 'memcached', servers: ['a:1'], url: 'x' })).toThrow(
      /topology\.cache\.url: unknown key/,
    );
    expect(() => parse({ type: 'memcached' })).toThrow(
      /topology\.cache\.servers: memcached servers are required/,
    );
    expect(() => parse({ type: 'memcached', servers: [] })).toThrow(/at least one memcached server/);
    expect(() => parse({ type: 'memcached', servers: ['memcached://h:1'] })).toThrow(
      /topology\.cache\.servers\[0\]: invalid server: use "host:port"/,
    );
    expect(() => parse({ type: 'memcached', servers: ['h:1', 'h:1'] })).toThrow(/listed twice/);
    expect(() => parse({ type: 'memcached', servers: ['h:1'], prefix: 'my app:' })).toThrow(
      /topology\.cache\.prefix: a memcached key prefix has no spaces/,
    );
    expect(() => parse({ type: 'memcached', servers: ['h:1'], maxItemSize: '100b' })).toThrow(
      /at least "1kb"/,
    );
    expect(() =>
      parse({ type: 'memcached', servers: ['h:1'], breaker: { threshold: 3, open: '1s' } }),
    ).toThrow(/topology\.cache\.breaker\.open: unknown key/);
  });

  it('tie l1 and invalidation together: memcached has no pub/sub', () => {
    expect(() => parse({ type: 'memcached', servers: ['h:1'], l1: {} })).toThrow(
      /topology\.cache\.invalidation: l1 needs invalidation: memcached has no pub\/sub/,
    );
    expect(() =>
      parse({ type: 'memcached', servers: ['h:1'], invalidation: { url: 'redis://127.0.0.1:6379' } }),
    ).toThrow(/invalidation is only used with l1/);
    expect(() =>
      parse({ type: 'memcached', servers: ['h:1'], l1: {}, invalidation: { url: '127.0.0.1:6379' } }),
    ).toThrow(/topology\.cache\.invalidation\.url: invalid url/);
    expect(
      parse({
        type: 'memcached',
        servers: ['h:1'],
        l1: { maxEntries: 50 },
        invalidation: { url: 'redis://r:6379' },
      }),
    ).toMatchObject({ l1: { maxEntries: 50 }, invalidation: { url: 'redis://r:6379', heartbeat: 2_000 } });
  });

  it('are checked the same way in code, with CACHE_OPTIONS_INVALID', () => {
    let error: unknown;
    try {
      memcachedStore({ servers: ['h:1'], commandTimeout: 'fast' });
    } catch (caught) {
      error = caught;
    }
    expect(isCacheError(error, 'CACHE_OPTIONS_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/commandTimeout: invalid duration "fast"/);
    expect(memcachedStoreSchema.shape.type.value).toBe('memcached');
  });

  it('build a memcached store, or a tiered one with l1, and connect nothing', () => {
    const plain = memcachedStore({ servers: ['127.0.0.1:1'] });
    expect(plain.type).toBe('memcached');
    expect(plain.prefix).toBe('cache:');
    const tiered = memcachedStore({
      servers: ['127.0.0.1:1'],
      prefix: 'shop:cache:',
      l1: {},
      invalidation: { url: 'redis://127.0.0.1:1' },
    });
    expect(tiered.type).toBe('tiered');
    expect(tiered.healthCheckName).toBe('memcached:cache');
  });
});
