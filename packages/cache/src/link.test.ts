import { applyMethodLinks } from '@blueprint/core/plugin';
import { describe, expect, it } from 'vitest';
import { createCache } from './cache.js';
import { Cached } from './decorators.js';
import { cacheKey } from './keys.js';
import { cacheLink } from './link.js';
import { memoryStore } from './stores/memory/index.js';

class Repository {
  loads = 0;
  @Cached({ ttl: '1m' })
  async find(input: { id: number }, _flags?: { fresh?: boolean }) {
    this.loads++;
    return { id: input.id, name: `item ${input.id}` };
  }

  async uncached() {
    return this.loads;
  }
}

describe('cacheLink outside an app', () => {
  it('keys each argument list apart, also past the key memo size', async () => {
    const cache = createCache({ store: memoryStore({ maxEntries: 10_000 }) });
    const repository = new Repository();
    applyMethodLinks(repository, [cacheLink(cache)], { process: 'test' });
    for (let round = 0; round < 2; round++) {
      for (let id = 0; id < 2_500; id++)
        expect(await repository.find({ id })).toEqual({ id, name: `item ${id}` });
    }
    expect(repository.loads).toBe(2_500);
    await repository.find({ id: 1 }, { fresh: true });
    expect(repository.loads).toBe(2_501);
    expect(await cache.get(cacheKey('Repository', 'find', [{ id: 7 }]))).toEqual({ id: 7, name: 'item 7' });
  });

  it('rejects (does not throw) when the arguments cannot make a key', async () => {
    const cache = createCache();
    const repository = new Repository();
    applyMethodLinks(repository, [cacheLink(cache)], { process: 'test' });
    await expect(repository.find({ id: 1 }, (() => 1) as never)).rejects.toMatchObject({
      code: 'CACHE_OPTIONS_INVALID',
    });
  });

  it('wraps only the decorated methods, and only on the method side of the chain', () => {
    const link = cacheLink(createCache());
    const repository = new Repository();
    expect(applyMethodLinks(repository, [link], { process: 'test' })).toBe(1);
    expect(Object.hasOwn(repository, 'uncached')).toBe(false);
    const target = { placement: 'local', process: 'test', className: 'Repository', method: 'find' } as const;
    expect(link.wrap({ ...target, entry: 'call' })).toBeUndefined();
    expect(link.wrap({ ...target, entry: 'serve', instance: new Repository() })).toBeUndefined();
    expect(link.wrap({ ...target, entry: 'method', instance: new Repository() })).toBeTypeOf('function');
  });
});
