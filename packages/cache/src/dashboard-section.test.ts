import { createTelemetry } from '@blueprint/core/plugin';
import { describe, expect, it, vi } from 'vitest';
import { createCache } from './cache.js';
import { cacheDashboardSection } from './dashboard-section.js';

describe('the cache dashboard section', () => {
  it('lists the tags invalidated, the most recent first, with how often', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 12, 0, 0), toFake: ['Date'] });
    try {
      const cache = createCache();
      await cache.getOrSet('product:p1', async () => 'p1', { ttl: '1m', tags: ['product:p1', 'catalog'] });
      await cache.invalidateTags('product:p1');
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12, 0, 5));
      await cache.invalidateTags(['catalog', 'product:p1']);
      vi.setSystemTime(Date.UTC(2026, 0, 1, 12, 0, 9));
      await cache.invalidateTags('catalog');
      const telemetry = createTelemetry({ app: 'shop', process: 'main', logDestination: { write() {} } });
      const data = (await cacheDashboardSection(cache, 'memory', telemetry).read()) as {
        tags: { tag: string; invalidations: number; lastAt: number }[];
      };
      expect(data.tags).toEqual([
        { tag: 'catalog', invalidations: 2, lastAt: Date.UTC(2026, 0, 1, 12, 0, 9) },
        { tag: 'product:p1', invalidations: 2, lastAt: Date.UTC(2026, 0, 1, 12, 0, 5) },
      ]);
      expect(await cache.get('product:p1')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the last 500 tags invalidated', async () => {
    const cache = createCache();
    for (let i = 0; i < 520; i++) await cache.invalidateTags(`t${i}`);
    const tags = cache.tagInvalidations();
    expect(tags).toHaveLength(500);
    expect(tags[0]!.tag).toBe('t519');
    expect(tags.at(-1)!.tag).toBe('t20');
  });
});
