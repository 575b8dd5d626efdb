import { defineService, type ImplementationOf, injectable, NotFoundError, service } from '@blueprint/core';
import { applyMethodLinks, createTelemetry } from '@blueprint/core/plugin';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startInMemoryTracing } from '../../../test/harness/in-memory-tracing.js';
import { startMonolith } from '../../../test/harness/monolith.js';
import { createCache } from './cache.js';
import { Cached } from './decorators.js';
import { cacheLink } from './link.js';
import { cachePlugin } from './plugin.js';

/** The value of the sample `name{labels}` in Prometheus text; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

const Products = defineService('products', {
  get: { input: z.object({ id: z.string() }), output: z.object({ id: z.string(), name: z.string() }) },
});

@injectable()
class ProductsService implements ImplementationOf<typeof Products> {
  @Cached({ ttl: '1m' })
  async get({ id }: { id: string }) {
    if (id === 'missing') throw new NotFoundError(`product ${id} does not exist`);
    return { id, name: `Product ${id}` };
  }
}

const shop = { name: 'shop', services: [service(Products, ProductsService)], plugins: [cachePlugin()] };
const start = (observability?: object) =>
  startMonolith(shop, {
    topology: {
      app: 'shop',
      rpc: { type: 'local' },
      ...(observability === undefined ? {} : { observability }),
    },
    logDestination: { write() {} },
  });

describe('cache metrics through the plugin', () => {
  it('counts hits, misses and loader runs by service, method and code', async () => {
    const app = await start();
    const products = app.client(Products);
    await products.get({ id: 'p1' });
    await products.get({ id: 'p1' });
    await products.get({ id: 'p1' });
    await Promise.all([products.get({ id: 'p2' }), products.get({ id: 'p2' })]);
    await expect(products.get({ id: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const text = await app.metrics();
    const labels = { service: 'products', method: 'get' };
    expect(sample(text, 'blueprint_cache_requests_total', { ...labels, result: 'hit' })).toBe(2);
    expect(sample(text, 'blueprint_cache_requests_total', { ...labels, result: 'miss' })).toBe(4);
    expect(sample(text, 'blueprint_cache_loads_total', { ...labels, code: 'OK' })).toBe(2);
    expect(sample(text, 'blueprint_cache_loads_total', { ...labels, code: 'NOT_FOUND' })).toBe(1);
    expect(sample(text, 'blueprint_cache_load_duration_seconds_count', labels)).toBe(3);

    await products.get({ id: 'p1' });
    const later = await app.metrics();
    expect(sample(later, 'blueprint_cache_requests_total', { ...labels, result: 'hit' })).toBe(3);
  });

  it('records nothing when metrics are off', async () => {
    const app = await start({ metrics: { enabled: false } });
    await app.client(Products).get({ id: 'p1' });
    expect(await app.metrics()).toBe('');
  });
});

describe('cache metrics outside an app', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts a stale value served when the refresh fails', async () => {
    vi.useFakeTimers();
    const telemetry = createTelemetry({ app: 'shop', process: 'main', logDestination: { write() {} } });
    let failing = false;
    class Rates {
      @Cached({ ttl: '1s', staleFor: '1m' })
      async rate(currency: string) {
        if (failing) throw new Error('rates service down');
        return currency === 'EUR' ? 1 : 1.1;
      }
    }
    const rates = new Rates();
    applyMethodLinks(rates, [cacheLink(createCache(), { telemetry })], { process: 'main' });
    expect(await rates.rate('USD')).toBe(1.1);
    vi.advanceTimersByTime(2_000);
    failing = true;
    expect(await rates.rate('USD')).toBe(1.1);

    const text = await telemetry.metrics.text();
    const labels = { service: 'Rates', method: 'rate' };
    expect(sample(text, 'blueprint_cache_requests_total', { ...labels, result: 'miss' })).toBe(1);
    expect(sample(text, 'blueprint_cache_requests_total', { ...labels, result: 'stale' })).toBe(1);
    expect(sample(text, 'blueprint_cache_loads_total', { ...labels, code: 'INTERNAL' })).toBe(1);
  });
});

describe('cache load spans', () => {
  it('wraps the loader (not a hit) in a `cache load` span, a child of the active span', async () => {
    const tracing = startInMemoryTracing();
    try {
      const telemetry = createTelemetry({ app: 'shop', process: 'main', logDestination: { write() {} } });
      let loads = 0;
      class Catalog {
        @Cached({ ttl: '1m' })
        async find(id: string) {
          loads++;
          return { id, innerSpan: trace.getActiveSpan() !== undefined };
        }
      }
      const catalog = new Catalog();
      applyMethodLinks(catalog, [cacheLink(createCache(), { telemetry })], { process: 'main' });
      const request = telemetry.startSpan('GET /products/:id', { kind: 'server' });
      await request.run(async () => {
        expect(await catalog.find('p1')).toEqual({ id: 'p1', innerSpan: true });
        await catalog.find('p1');
      });
      request.end();

      expect(loads).toBe(1);
      const spans = tracing.spans();
      const load = spans.filter((s) => s.name === 'cache load Catalog.find');
      expect(load).toHaveLength(1);
      const parent = spans.find((s) => s.name === 'GET /products/:id')!;
      expect(load[0]!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(load[0]!.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(load[0]!.attributes['code.function.name']).toBe('Catalog.find');
    } finally {
      await tracing.stop();
    }
  });
});
