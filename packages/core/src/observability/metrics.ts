/**
 * Metrics: a prom-client `Registry` per app process (never prom-client's global registry), helpers that
 * get or create a metric by name, and the Prometheus text.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { AppDefinitionError } from '../errors.js';
import type { MetricOptions } from './metric-options.js';
import {
  type MetricRegistry,
  registerTallyHistogram,
  type TallyHistogramOptions,
} from './tally-histogram.js';

export type { MetricOptions } from './metric-options.js';

/** Options of {@link Metrics.counter}. */
export interface CounterOptions<L extends string = string> extends MetricOptions<L> {
  /**
   * Called on every scrape, before the counter is read: add what a hot path tallied in plain numbers
   * (`this.inc({ ...labels }, delta)`), where a prom-client `inc()` per call (about 250 ns) costs too
   * much. Only the first declaration's `collect` is kept. Default: none.
   */
  readonly collect?: (this: Counter<L>) => void | Promise<void>;
}

/** Options of {@link Metrics.gauge}. */
export interface GaugeOptions<L extends string = string> extends MetricOptions<L> {
  /** Called on every scrape to set the gauge's value(s), e.g. the pending entries of a stream. */
  readonly collect?: (this: Gauge<L>) => void | Promise<void>;
}

/** Options of {@link Metrics.histogram}. */
export interface HistogramOptions<L extends string = string> extends MetricOptions<L> {
  /** Upper bounds of the buckets. Default: {@link DURATION_BUCKETS} (seconds). */
  readonly buckets?: readonly number[];
}

/** Buckets for durations in seconds, from 0.5 ms to 10 s. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** The metrics of one process. */
export interface Metrics {
  /** False when the topology turned metrics off: nothing is served and core records nothing. */
  readonly enabled: boolean;
  /** The process's prom-client registry. Labels `app` and `process` are added to every series. */
  readonly registry: Registry;
  /** The content type of {@link Metrics.text}: Prometheus text format 0.0.4. */
  readonly contentType: string;
  /**
   * Gets the counter called `name`, creating it on first use. Asking again with another type or other
   * label names is an `APP_INVALID` error.
   */
  counter<L extends string = string>(options: CounterOptions<L>): Counter<L>;
  /** Gets or creates a gauge (see {@link Metrics.counter}). */
  gauge<L extends string = string>(options: GaugeOptions<L>): Gauge<L>;
  /** Gets or creates a histogram (see {@link Metrics.counter}). */
  histogram<L extends string = string>(options: HistogramOptions<L>): Histogram<L>;
  /**
   * Registers a histogram for hot paths: its series count into plain arrays ({@link HistogramTally},
   * about 10 ns an observation where a prom-client `observe()` costs about 500 ns) and are written when
   * the registry is scraped. A second registration of the same name adds its series to the first's.
   */
  tallyHistogram(options: TallyHistogramOptions): void;
  /**
   * The Prometheus text of this process's metrics followed by the Node.js process metrics
   * (`process_*`, `nodejs_*`). Empty when metrics are disabled.
   */
  text(): Promise<string>;
}

const RESERVED_LABELS = new Set(['app', 'process', 'le', 'quantile']);
const ID_LABEL = /(^id$|_id$|[a-z]Id$)/;

let nodeRegistry: Registry | undefined;

/**
 * The Node.js process metrics, in a registry of their own shared by every app of this Node process:
 * prom-client's collectors install a GC observer and an event-loop monitor that cannot be removed, so
 * they are installed once.
 */
function nodeMetrics(): Registry {
  if (nodeRegistry === undefined) {
    nodeRegistry = new Registry();
    collectDefaultMetrics({ register: nodeRegistry });
  }
  return nodeRegistry;
}

function checkLabels(name: string, labelNames: readonly string[]): void {
  for (const label of labelNames) {
    if (RESERVED_LABELS.has(label)) {
      throw new AppDefinitionError(
        `metric "${name}": label "${label}" is reserved (every series already carries app and process); remove it`,
      );
    }
    if (ID_LABEL.test(label)) {
      throw new AppDefinitionError(
        `metric "${name}": label "${label}" looks like an id; labels must take few values (service, method, code, event, group), put ids in logs or spans instead`,
      );
    }
  }
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** App name (label `app` on every series). */
  readonly app: string;
  /** Process name (label `process` on every series). */
  readonly process: string;
  /** Collect and serve metrics. */
  readonly enabled: boolean;
}

/** The `collect` of a counter or gauge as prom-client takes it: only when given. */
function collectOf<C>(metric: { readonly collect?: C | undefined }): { collect?: C } {
  return metric.collect === undefined ? {} : { collect: metric.collect };
}

/** Creates the metrics of one process. */
export function createMetrics(options: CreateMetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: options.app, process: options.process });
  const node = options.enabled ? nodeMetrics() : undefined;

  /**
   * The metric of that name when it has this type and labels, else a new `Kind` in the registry, with
   * `extra` (its `collect` or `buckets`) besides the name, help and labels.
   */
  const getOrCreate = <L extends string, M extends Metric<string>, E extends object>(
    type: 'counter' | 'gauge' | 'histogram',
    Kind: new (config: { name: string; help: string; labelNames: L[]; registers: Registry[] } & E) => M,
    { name, help, labelNames = [] }: MetricOptions<L>,
    extra: E,
  ): M => {
    const existing = registry.getSingleMetric(name) as
      | (Metric<string> & { type?: string; labelNames?: readonly string[] })
      | undefined;
    if (existing === undefined) {
      checkLabels(name, labelNames);
      return new Kind({ name, help, labelNames: [...labelNames], registers: [registry], ...extra });
    }
    const existingLabels = existing.labelNames ?? [];
    if (
      existing.type !== type ||
      existingLabels.length !== labelNames.length ||
      existingLabels.some((label, index) => label !== labelNames[index])
    ) {
      throw new AppDefinitionError(
        `metric "${name}" already exists as a ${existing.type} with labels [${existingLabels.join(', ')}]; asked for a ${type} with labels [${labelNames.join(', ')}]. Use another name`,
      );
    }
    return existing as M;
  };

  return {
    enabled: options.enabled,
    registry,
    contentType: registry.contentType,
    counter<L extends string>(metric: CounterOptions<L>) {
      return getOrCreate('counter', Counter<L>, metric, collectOf(metric));
    },
    gauge<L extends string>(metric: GaugeOptions<L>) {
      return getOrCreate('gauge', Gauge<L>, metric, collectOf(metric));
    },
    histogram<L extends string>(metric: HistogramOptions<L>) {
      return getOrCreate('histogram', Histogram<L>, metric, {
        buckets: [...(metric.buckets ?? DURATION_BUCKETS)],
      });
    },
    tallyHistogram(tally) {
      checkLabels(tally.name, tally.labelNames);
      registerTallyHistogram(registry as unknown as MetricRegistry, tally);
    },
    async text() {
      if (node === undefined) return '';
      const [own, process] = await Promise.all([registry.metrics(), node.metrics()]);
      return own === '\n' ? process : `${own}${process}`;
    },
  };
}
