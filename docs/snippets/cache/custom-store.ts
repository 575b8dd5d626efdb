// #region store
// map-store/index.ts: a whole store, keeping encoded entries in a Map (what a store over a key-value
// server does, without the network).

import {
  type CacheEntry,
  type CacheStore,
  type CacheStoreContext,
  encodeCacheValue,
  parseStoreOptions,
  type StoreOptions,
  type StoreSetOptions,
} from '@blueprint/cache/transport';
import { defineDriver, jsonCodec } from '@blueprint/core/transport';
import { z } from 'zod';

/** The options: the topology section and, without `type`, the factory's. */
export const mapStoreSchema = z.strictObject({
  type: z.literal('map'),
  prefix: z.string().min(1).optional(),
});

export type MapStoreOptions = StoreOptions<typeof mapStoreSchema>;

interface Stored {
  readonly text: string;
  readonly freshUntil: number;
  readonly expiresAt: number;
  readonly tags: readonly string[];
}

export class MapStore implements CacheStore {
  readonly type = 'map';
  private readonly prefix: string;
  private readonly entries = new Map<string, Stored>();

  constructor(options: MapStoreOptions = {}) {
    this.prefix = parseStoreOptions(mapStoreSchema, options, 'mapStore(options)').prefix ?? 'cache:';
  }

  async connect(): Promise<void> {}

  get(key: string): CacheEntry | undefined {
    const stored = this.entries.get(this.prefix + key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= Date.now()) {
      this.entries.delete(this.prefix + key);
      return undefined;
    }
    return { value: jsonCodec.decode(stored.text), freshUntil: stored.freshUntil };
  }

  async set(
    key: string,
    value: unknown,
    { freshUntil, expiresAt, tags = [] }: StoreSetOptions,
  ): Promise<void> {
    const text = encodeCacheValue(key, value); // CACHE_VALUE_INVALID for what the codec refuses
    this.entries.set(this.prefix + key, { text, freshUntil, expiresAt, tags });
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(this.prefix + key);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    for (const [key, stored] of this.entries) {
      if (stored.tags.some((tag) => tags.includes(tag))) this.entries.delete(key);
    }
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export const mapStoreDriver = defineDriver({
  type: 'map',
  schema: mapStoreSchema,
  create: (options, context: CacheStoreContext) =>
    new MapStore({ prefix: options.prefix ?? context.keyPrefix }),
});

export const mapStore = (options?: MapStoreOptions) => new MapStore(options);

// #endregion store

import assert from 'node:assert/strict';
import { Cached, cachePlugin } from '@blueprint/cache';
import { createApp, defineApp, defineService, injectable, service } from '@blueprint/core';

// Registered with the plugin, the topology selects it by its type.
const Clock = defineService('clock', { tick: { input: z.void(), output: z.number() } });
let ticks = 0;
@injectable()
class ClockService {
  @Cached({ ttl: '1m' })
  async tick() {
    return ++ticks;
  }
}
const app = await createApp(
  defineApp({
    name: 'docs',
    services: [service(Clock, ClockService)],
    plugins: [cachePlugin({ stores: [mapStoreDriver] })],
  }),
  { topology: { app: 'src/app.ts', cache: { type: 'map' }, processes: { main: { services: ['clock'] } } } },
);
await app.start();
assert.equal(await app.client(Clock).tick(), 1);
assert.equal(await app.client(Clock).tick(), 1);
await app.stop();
