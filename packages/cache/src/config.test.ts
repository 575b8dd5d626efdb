// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topology files spell environment references as ${VAR}
import { parseTopology } from '@blueprint/core';
import { defineDriver } from '@blueprint/core/transport';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cacheSectionSchema, createStoreFromTopology } from './config.js';
import { cachePlugin } from './plugin.js';
import { MemoryStore } from './stores/memory/index.js';
import { RedisStore } from './stores/redis/index.js';
import { TieredStore } from './stores/tiered/index.js';

const base = { app: 'x', processes: { main: { services: [] } } };
const parse = (cache: unknown, plugin = cachePlugin()) =>
  parseTopology(
    { ...base, cache },
    { sections: [plugin.section!], env: { REDIS_URL: 'redis://10.0.0.9:6380' } },
  );
const sectionSchema = cacheSectionSchema();

describe('cache topology section', () => {
  it('parses each store with its defaults', () => {
    expect(sectionSchema.parse({ type: 'memory' })).toEqual({ type: 'memory', maxEntries: 10_000 });
    expect(sectionSchema.parse({ type: 'redis', url: 'redis://127.0.0.1:6379' })).toEqual({
      type: 'redis',
      url: 'redis://127.0.0.1:6379',
      commandTimeout: 50,
      connectTimeout: 1_000,
      maxRetriesPerRequest: 1,
      breaker: { threshold: 3, openFor: 2_000 },
    });
    expect(
      sectionSchema.parse({
        type: 'tiered',
        url: 'redis://127.0.0.1:6379',
        l1: { maxEntries: 500, maxBytes: '8mb', ttl: '30s' },
        lock: {},
        commandTimeout: '80ms',
      }),
    ).toMatchObject({
      l1: { maxEntries: 500, maxBytes: 8 * 1024 * 1024, ttl: 30_000 },
      lock: { ttl: 2_000, wait: 1_000 },
      commandTimeout: 80,
      heartbeat: 2_000,
    });
  });

  it('reads values from the environment', () => {
    const topology = parse({
      type: 'redis',
      url: '${REDIS_URL:-redis://127.0.0.1:6379}',
      commandTimeout: '${T:-75ms}',
    });
    expect(topology.sections.cache).toMatchObject({ url: 'redis://10.0.0.9:6380', commandTimeout: 75 });
  });

  it('names the allowed store types for an unknown one', () => {
    expect(() => parse({ type: 'dynamodb' })).toThrow(
      /topology\.cache\.type: unknown cache store "dynamodb"; allowed: memory, redis, tiered, memcached/,
    );
    expect(() => parse({ url: 'redis://x' })).toThrow(/missing "type" for cache store/);
  });

  it('rejects unknown keys, bad urls, bad durations and zero sizes with their path', () => {
    expect(() => parse({ type: 'memory', maxEntries: 10, ttl: '1m' })).toThrow(
      /topology\.cache\.ttl: unknown key/,
    );
    expect(() => parse({ type: 'redis', url: 'localhost:6379' })).toThrow(
      /topology\.cache\.url: invalid url/,
    );
    expect(() => parse({ type: 'redis', url: 'redis://h', commandTimeout: 'fast' })).toThrow(
      /topology\.cache\.commandTimeout: invalid duration "fast"/,
    );
    expect(() => parse({ type: 'memory', maxEntries: 0 })).toThrow(
      /topology\.cache\.maxEntries: use a whole number >= 1/,
    );
  });

  it('builds the store the section names, with the app prefix', async () => {
    expect(
      await createStoreFromTopology(sectionSchema.parse({ type: 'memory', maxEntries: 5 }), {
        appName: 'shop',
      }),
    ).toBeInstanceOf(MemoryStore);
    const redis = await createStoreFromTopology(sectionSchema.parse({ type: 'redis', url: 'redis://h:1' }), {
      appName: 'shop',
    });
    expect(redis).toBeInstanceOf(RedisStore);
    expect((redis as RedisStore).prefix).toBe('shop:cache:');
    const tiered = (await createStoreFromTopology(
      sectionSchema.parse({ type: 'tiered', url: 'redis://h:1', prefix: 'p:' }),
      { appName: 'shop' },
    )) as TieredStore;
    expect(tiered).toBeInstanceOf(TieredStore);
    expect(tiered.channel).toBe('p:invalidate');
    expect(tiered.l2.prefix).toBe('p:');
  });

  it('accepts a store given to cachePlugin({ stores }) in the section, and builds it', async () => {
    const built: unknown[] = [];
    const echoStore = defineDriver({
      type: 'echo',
      schema: z.strictObject({ type: z.literal('echo'), size: z.number().default(1) }),
      create: (options, context: { appName: string; keyPrefix: string }) => {
        built.push({ options, context });
        return new MemoryStore({ maxEntries: options.size });
      },
    });
    const plugin = cachePlugin({ stores: [echoStore] });
    expect(parse({ type: 'echo', size: 3 }, plugin).sections.cache).toEqual({ type: 'echo', size: 3 });
    expect(() => parse({ type: 'echo', size: 'big' }, plugin)).toThrow(/topology\.cache\.size/);
    expect(() => parse({ type: 'dynamodb' }, plugin)).toThrow(
      /allowed: memory, redis, tiered, memcached, echo/,
    );
    const store = await createStoreFromTopology({ type: 'echo', size: 3 }, { appName: 'shop' }, [echoStore]);
    expect((store as MemoryStore).maxEntries).toBe(3);
    expect(built).toEqual([
      { options: { type: 'echo', size: 3 }, context: { appName: 'shop', keyPrefix: 'shop:cache:' } },
    ]);
  });
});

describe('creating stores', () => {
  it('connects nothing until connect()', async () => {
    const redis = (await createStoreFromTopology(
      sectionSchema.parse({ type: 'redis', url: 'redis://127.0.0.1:1' }),
      {
        appName: 'shop',
      },
    )) as RedisStore;
    const tiered = (await createStoreFromTopology(
      sectionSchema.parse({ type: 'tiered', url: 'redis://127.0.0.1:1' }),
      { appName: 'shop' },
    )) as TieredStore;
    expect(redis.client).toBeUndefined();
    expect(tiered.l2.client).toBeUndefined();
    expect(tiered.listening).toBe(false);
  });
});
