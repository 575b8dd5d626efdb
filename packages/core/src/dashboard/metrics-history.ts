/**
 * The metrics samples the dashboard took of each process within the rate window, and the figures of
 * one call edge computed from them: calls, errors, rate and latency quantiles, summed over the
 * calling process's replicas.
 */
import { RPC_METRICS } from '../chain/observability-link.js';
import type { PrometheusSample } from '../cli/prometheus-text.js';
import { histogramQuantileMs } from '../observability/quantile.js';
import { type DashboardTarget, targetKey } from './admin-client.js';

/** Latency and volume of the calls along one edge. */
export interface EdgeStats {
  /** Calls counted in the window (since the calling process started when there is no earlier sample). */
  readonly calls: number;
  /** Calls that ended with an error code. */
  readonly errors: number;
  /** Calls per second over the window. */
  readonly rate: number;
  /** Share of calls that failed, 0..1 (0 without calls). */
  readonly errorRate: number;
  /** Median duration in ms, from the duration histogram (undefined without calls). */
  readonly p50Ms: number | undefined;
  /** 99th percentile in ms. */
  readonly p99Ms: number | undefined;
}

interface Sample {
  readonly at: number;
  readonly samples: readonly PrometheusSample[];
}

/** The earliest sample in the window (`undefined`: the process's start) and the latest, of one process. */
interface Window {
  readonly first: Sample | undefined;
  readonly last: Sample;
  readonly process: string;
}

/** What one edge's series add up to in one sample. */
interface Counted {
  calls: number;
  errors: number;
  readonly buckets: Map<number, number>;
}

/** Metrics samples per target within the rate window. */
export class MetricsHistory {
  /** Samples per target; `trimmed` once an older one was dropped. */
  private readonly history = new Map<string, { samples: Sample[]; trimmed: boolean }>();

  /** `rateWindowMs`: how far back rates look. */
  constructor(private readonly rateWindowMs: number) {}

  /** Adds the samples just read from `target`, dropping those that left the window. */
  record(target: DashboardTarget, samples: readonly PrometheusSample[]): void {
    const entry = this.history.get(targetKey(target)) ?? { samples: [], trimmed: false };
    const now = Date.now();
    entry.samples.push({ at: now, samples });
    while (entry.samples.length > 1 && entry.samples[1]!.at <= now - this.rateWindowMs) {
      entry.samples.shift();
      entry.trimmed = true;
    }
    this.history.set(targetKey(target), entry);
  }

  /** Edge figures for calls from `fromProcess` to `service`, summed over the process's replicas. */
  edgeStats(
    targets: readonly DashboardTarget[],
    fromProcess: string,
    service: string,
    remote: boolean,
  ): EdgeStats {
    const requests = remote ? RPC_METRICS.clientRequests : RPC_METRICS.localRequests;
    const duration = `${remote ? RPC_METRICS.clientDuration : RPC_METRICS.localDuration}_bucket`;
    const count = (samples: readonly PrometheusSample[] | undefined): Counted => {
      const out: Counted = { calls: 0, errors: 0, buckets: new Map() };
      for (const s of samples ?? []) {
        if (s.labels.service !== service) continue;
        if (s.name === requests) {
          out.calls += s.value;
          if (s.labels.code !== 'OK') out.errors += s.value;
        } else if (s.name === duration) {
          const le = Number(s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : s.labels.le);
          out.buckets.set(le, (out.buckets.get(le) ?? 0) + s.value);
        }
      }
      return out;
    };
    const total: Counted = { calls: 0, errors: 0, buckets: new Map() };
    let seconds = 0;
    for (const window of this.windows(targets)) {
      if (window.process !== fromProcess) continue;
      seconds = Math.max(seconds, windowSeconds(window));
      const now = count(window.last.samples);
      const before = count(window.first?.samples);
      total.calls += Math.max(0, now.calls - before.calls);
      total.errors += Math.max(0, now.errors - before.errors);
      for (const [le, value] of now.buckets) {
        const added = Math.max(0, value - (before.buckets.get(le) ?? 0));
        total.buckets.set(le, (total.buckets.get(le) ?? 0) + added);
      }
    }
    const { calls, errors, buckets } = total;
    return {
      calls,
      errors,
      rate: seconds > 0 ? calls / seconds : 0,
      errorRate: calls > 0 ? errors / calls : 0,
      p50Ms: histogramQuantileMs(buckets, 0.5),
      p99Ms: histogramQuantileMs(buckets, 0.99),
    };
  }

  /**
   * The earliest and latest samples of each target within the window. Until a sample has left the
   * window, the earliest is the process's start (`first` undefined): counts then run since it started,
   * so calls made before the first sample are not lost.
   */
  private windows(targets: readonly DashboardTarget[]): Window[] {
    const out: Window[] = [];
    for (const target of targets) {
      const entry = this.history.get(targetKey(target));
      if (entry === undefined || entry.samples.length === 0) continue;
      const last = entry.samples.at(-1)!;
      const first = entry.trimmed && entry.samples.length > 1 ? entry.samples[0] : undefined;
      out.push({ first, last, process: target.process });
    }
    return out;
  }
}

/** The seconds a window spans: between its samples, or from the process's start to its last sample. */
function windowSeconds({ first, last }: Window): number {
  if (first !== undefined) return (last.at - first.at) / 1000;
  const startTime = last.samples.find((s) => s.name === 'process_start_time_seconds')?.value;
  return startTime === undefined ? 0 : last.at / 1000 - startTime;
}
