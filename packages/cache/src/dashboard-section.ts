/**
 * The `cache` section of the development dashboard: per decorated method, how its calls were answered
 * (hits, misses, stale values, the hit ratio) and how long its loader took (p50 and p99), since the
 * process started; the store's totals; and the tags invalidated, with how often.
 */
import type { Telemetry } from '@blueprint/core';
import { type DashboardSection, histogramQuantileMs } from '@blueprint/core/plugin';
import type { Cache } from './cache.js';
import { CACHE_METRICS } from './instruments.js';

interface MetricValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/** The values of the metric `name` in the process's registry (none when metrics are off). */
async function valuesOf(telemetry: Telemetry, name: string): Promise<readonly MetricValue[]> {
  if (!telemetry.metrics.enabled) return [];
  const metric = telemetry.metrics.registry.getSingleMetric(name);
  if (metric === undefined) return [];
  return (await metric.get()).values as readonly MetricValue[];
}

/** The `cache` dashboard section of a process. */
export function cacheDashboardSection(
  cache: Cache,
  storeType: string,
  telemetry: Telemetry,
): DashboardSection {
  return {
    async read() {
      const methods = new Map<
        string,
        {
          service: string;
          method: string;
          hit: number;
          miss: number;
          stale: number;
          buckets: Map<number, number>;
        }
      >();
      const entry = (service: string, method: string) => {
        const id = `${service}.${method}`;
        let found = methods.get(id);
        if (found === undefined) {
          found = { service, method, hit: 0, miss: 0, stale: 0, buckets: new Map() };
          methods.set(id, found);
        }
        return found;
      };
      for (const { labels, value } of await valuesOf(telemetry, CACHE_METRICS.requests)) {
        const found = entry(String(labels.service), String(labels.method));
        const result = labels.result;
        if (result === 'hit' || result === 'miss' || result === 'stale') found[result] += value;
      }
      for (const { labels, value, metricName } of await valuesOf(telemetry, CACHE_METRICS.loadDuration)) {
        if (metricName !== `${CACHE_METRICS.loadDuration}_bucket`) continue;
        const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
        const buckets = entry(String(labels.service), String(labels.method)).buckets;
        buckets.set(le, (buckets.get(le) ?? 0) + value);
      }
      return {
        store: storeType,
        totals: cache.stats(),
        tags: cache.tagInvalidations(),
        methods: [...methods.values()].map(({ buckets, ...counts }) => {
          const calls = counts.hit + counts.miss + counts.stale;
          return {
            ...counts,
            hitRatio: calls > 0 ? counts.hit / calls : undefined,
            loads: buckets.get(Number.POSITIVE_INFINITY) ?? 0,
            loadP50Ms: histogramQuantileMs(buckets, 0.5),
            loadP99Ms: histogramQuantileMs(buckets, 0.99),
          };
        }),
      };
    },
  };
}
