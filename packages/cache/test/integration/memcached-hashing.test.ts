import { randomUUID } from 'node:crypto';
import { type MemcachedStore, memcachedStore } from '@blueprint/cache/stores/memcached';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemcachedHandle } from '../../../../test/harness/index.js';
import { memcachedForFile } from '../../../../test/harness/memcached-for-file.js';
import { memcachedItemCount } from '../../../../test/harness/memcached-text.js';

const KEYS = Array.from({ length: 600 }, (_, i) => `products:get:{"id":"p${i}"}`);
const fresh = () => {
  const freshUntil = Date.now() + 600_000;
  return { freshUntil, expiresAt: freshUntil };
};

const servers = await memcachedForFile(4);

const stores: MemcachedStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function storeOn(handles: readonly MemcachedHandle[], prefix: string): Promise<MemcachedStore> {
  const store = memcachedStore({ servers: handles.map((h) => h.address), prefix, commandTimeout: '1s' });
  stores.push(store);
  await store.connect();
  return store;
}

async function hits(store: MemcachedStore): Promise<Set<string>> {
  const entries = await Promise.all(KEYS.map((key) => store.get(key)));
  return new Set(KEYS.filter((_, i) => entries[i]?.value === i));
}

describe('memcached store on several servers', () => {
  it('spreads keys over the servers and routes each key to the one server that holds it', async () => {
    const three = servers.slice(0, 3);
    const before = await Promise.all(three.map((server) => memcachedItemCount(server.port)));
    const store = await storeOn(three, `test:${randomUUID().slice(0, 8)}:`);
    await Promise.all(KEYS.map((key, i) => store.set(key, i, fresh())));
    const after = await Promise.all(three.map((server) => memcachedItemCount(server.port)));
    const counts = after.map((count, i) => count - before[i]!);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(KEYS.length);
    for (const count of counts) {
      expect(count).toBeGreaterThan((KEYS.length / 3) * 0.7);
      expect(count).toBeLessThan((KEYS.length / 3) * 1.3);
    }
    for (const [i, server] of three.entries()) {
      expect(KEYS.filter((key) => store.serverFor(key) === server.address)).toHaveLength(counts[i]!);
    }
    await store.clear();
  });

  it('when a server is removed from the list, only its keys miss; when one is added, only the keys it takes', async () => {
    const prefix = `test:${randomUUID().slice(0, 8)}:`;
    const [a, b, c, d] = servers;
    const original = await storeOn([a, b, c], prefix);
    await Promise.all(KEYS.map((key, i) => original.set(key, i, fresh())));
    const onB = new Set(KEYS.filter((key) => original.serverFor(key) === b.address));

    const removed = await storeOn([c, a], prefix);
    const hitAfterRemoval = await hits(removed);
    expect(hitAfterRemoval).toEqual(new Set(KEYS.filter((key) => !onB.has(key))));

    const added = await storeOn([a, b, c, d], prefix);
    const hitAfterAdding = await hits(added);
    const moved = KEYS.filter((key) => !hitAfterAdding.has(key));
    for (const key of moved) expect(added.serverFor(key)).toBe(d.address);
    expect(moved.length / KEYS.length).toBeGreaterThan(0.25 * 0.6);
    expect(moved.length / KEYS.length).toBeLessThan(0.25 * 1.4);
    await original.clear();
  });
});
