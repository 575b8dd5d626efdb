import { getMethodMetadata } from '@blueprint/core/plugin';
import { describe, expect, it } from 'vitest';
import { thrownBy } from '../../../test/harness/failures.js';
import { CACHED_METADATA, Cached, type CachedMetadata, CacheInvalidate } from './decorators.js';
import { isCacheError } from './errors.js';

describe('@Cached and @CacheInvalidate options', () => {
  it('are checked when the class is defined, naming the class, the method and the option', () => {
    const ttl = thrownBy(() => {
      class Catalog {
        @Cached({ ttl: 0 })
        async find() {}
      }
      return Catalog;
    });
    expect(isCacheError(ttl, 'CACHE_OPTIONS_INVALID')).toBe(true);
    expect(ttl.message).toBe('@Cached on Catalog.find: ttl: use more than 0');

    const key = thrownBy(() => {
      class Catalog {
        @Cached({ ttl: '1m', key: 42 as never })
        async find() {}
      }
      return Catalog;
    });
    expect(key.message).toMatch(/^@Cached on Catalog\.find: key: key must be a string or a function/);

    const invalidate = thrownBy(() => {
      class Catalog {
        @CacheInvalidate({})
        async update() {}
      }
      return Catalog;
    });
    expect(isCacheError(invalidate, 'CACHE_OPTIONS_INVALID')).toBe(true);
    expect(invalidate.message).toMatch(/^@CacheInvalidate on Catalog\.update: give keys or tags/);
  });

  it('record the parsed policy, and keep key and tag functions as given', () => {
    const tags = (id: string) => [`product:${id}`];
    class Catalog {
      @Cached({ ttl: '5m', staleFor: '1h', tags })
      async find(_id: string) {}
      @Cached({ ttl: 1_000, tags: ['products'], lock: false })
      async list() {}
    }
    const find = getMethodMetadata<CachedMetadata>(new Catalog(), 'find', CACHED_METADATA);
    expect(find).toEqual({
      policy: { ttl: 300_000, staleFor: 3_600_000, refreshTimeout: 0, lock: true, tags: undefined },
      key: undefined,
      tags,
    });
    const list = getMethodMetadata<CachedMetadata>(new Catalog(), 'list', CACHED_METADATA);
    expect(list?.policy).toEqual({
      ttl: 1_000,
      staleFor: 0,
      refreshTimeout: 0,
      lock: false,
      tags: ['products'],
    });
  });
});
