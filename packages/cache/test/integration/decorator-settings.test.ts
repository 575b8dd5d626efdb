import { describe, expect, it } from 'vitest';
import { DECORATOR_SETTINGS, importCompiled } from '../../../../test/harness/index.js';

const source = `
import { Cached, CacheInvalidate, cacheLink, createCache } from '@blueprint/cache';
import { applyMethodLinks } from '@blueprint/core/plugin';

export class Catalog {
  loads = 0;
  @Cached({ ttl: '1m', tags: ['items'] })
  async find(id) {
    this.loads++;
    return { id, loads: this.loads };
  }
  @CacheInvalidate({ tags: ['items'] })
  async rename(_id) {}
}

export function decorated() {
  const catalog = new Catalog();
  applyMethodLinks(catalog, [cacheLink(createCache())], { process: 'main' });
  return catalog;
}
`;

const badTtl = `
import { Cached } from '@blueprint/cache';
export class Broken {
  @Cached({ ttl: 0 })
  async find() {}
}
`;

describe.each(DECORATOR_SETTINGS)('@Cached and @CacheInvalidate with %s decorators', (setting) => {
  it('cache and invalidate through cacheLink', async () => {
    const mod = await importCompiled('cache-decorators', source, setting);
    const catalog = (
      mod.decorated as () => {
        loads: number;
        find(id: string): Promise<{ id: string; loads: number }>;
        rename(id: string): Promise<void>;
      }
    )();
    expect(await catalog.find('a')).toEqual({ id: 'a', loads: 1 });
    expect(await catalog.find('a')).toEqual({ id: 'a', loads: 1 });
    await catalog.rename('a');
    expect(await catalog.find('a')).toEqual({ id: 'a', loads: 2 });
  });

  it('refuse bad options when the class is defined', async () => {
    await expect(importCompiled('cache-bad-ttl', badTtl, setting)).rejects.toMatchObject({
      code: 'CACHE_OPTIONS_INVALID',
      message: expect.stringMatching(/^@Cached on (Broken\.)?find: ttl: use more than 0$/),
    });
  });
});
