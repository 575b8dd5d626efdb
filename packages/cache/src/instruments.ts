/**
 * Metrics and spans of decorated methods: how each `@Cached` call was answered (hit, miss, stale), the
 * loader runs with their result code and duration, and a `cache load` span around each loader run.
 * The cache plugin builds them from the process's telemetry; `cacheLink(cache, { telemetry })`
 * does the same outside an app.
 */
import { isBlueprintError, type Telemetry } from '@blueprint/core';
import type { SpanHandle } from '@blueprint/core/plugin';

/** Names of the cache metrics. */
export const CACHE_METRICS = {
  /**
   * Counter `{service, method, result}` of `@Cached` calls; `result` is `hit` (a fresh value), `miss`
   * (the caller waited for the loader) or `stale` (a stale value served because the refresh failed or
   * was slow). Concurrent callers of one key each count.
   */
  requests: 'blueprint_cache_requests_total',
  /** Counter `{service, method, code}` of loader runs; `code` is `OK` or the error code. */
  loads: 'blueprint_cache_loads_total',
  /** Histogram `{service, method}` of the duration of loader runs, in seconds. */
  loadDuration: 'blueprint_cache_load_duration_seconds',
  /** Counter `{operation}` of store failures the cache absorbed (Redis down or slow, a corrupt entry). */
  storeErrors: 'blueprint_cache_store_errors_total',
} as const;

/** How a read-through call was answered. */
export type CacheOutcome = 'hit' | 'miss' | 'stale';

/** Receives the outcome of read-through calls. @internal */
export interface OutcomeRecorder {
  /** Counts one call answered as `kind`. */
  record(kind: CacheOutcome): void;
}

type RequestLabel = 'service' | 'method' | 'result';

/** What the instruments use of a prom-client counter (core hands them out; this package imports none). */
interface LabelledCounter<L extends string> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
  labels(...values: string[]): { inc(): void };
}

/** What the instruments use of a prom-client histogram. */
interface LabelledHistogram {
  labels(...values: string[]): { observe(seconds: number): void };
}

/**
 * The instruments of one decorated method. Outcomes are tallied in plain numbers (an L1 hit adds one
 * increment) and added to the Prometheus counter when it is scraped. @internal
 */
export class MethodInstruments implements OutcomeRecorder {
  /** Calls answered with a fresh value. */
  hit = 0;
  /** Calls that waited for the loader. */
  miss = 0;
  /** Calls answered with a stale value. */
  stale = 0;
  private readonly flushed = { hit: 0, miss: 0, stale: 0 };
  private readonly okLoads: { inc(): void } | undefined;
  private readonly loadDuration: { observe(seconds: number): void } | undefined;
  private readonly spanName: string;
  private readonly attributes: Readonly<Record<string, string>>;

  constructor(
    readonly service: string,
    readonly method: string,
    private readonly telemetry: Telemetry,
    private readonly loads: LabelledCounter<'service' | 'method' | 'code'> | undefined,
    loadDuration: LabelledHistogram | undefined,
  ) {
    this.okLoads = loads?.labels(service, method, 'OK');
    this.loadDuration = loadDuration?.labels(service, method);
    this.spanName = `cache load ${service}.${method}`;
    this.attributes = { 'code.function.name': `${service}.${method}` };
  }

  record(kind: CacheOutcome): void {
    this[kind]++;
  }

  /** Runs the loader inside a `cache load` span, counting its result and observing its duration. */
  load(run: () => unknown): Promise<unknown> {
    const started = performance.now();
    const span = this.telemetry.startSpan(this.spanName, { attributes: this.attributes });
    let result: unknown;
    try {
      result = span.run(run);
    } catch (error) {
      this.loaded(started, span, error);
      return Promise.reject(error);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.loaded(started, span, undefined);
        return value;
      },
      (error: unknown) => {
        this.loaded(started, span, error);
        throw error;
      },
    );
  }

  /** Adds the outcomes tallied since the last scrape to `counter`. */
  flush(counter: LabelledCounter<RequestLabel>): void {
    for (const result of ['hit', 'miss', 'stale'] as const) {
      const delta = this[result] - this.flushed[result];
      if (delta <= 0) continue;
      counter.inc({ service: this.service, method: this.method, result }, delta);
      this.flushed[result] = this[result];
    }
  }

  private loaded(started: number, span: SpanHandle, error: unknown): void {
    this.loadDuration?.observe((performance.now() - started) / 1000);
    if (error === undefined) this.okLoads?.inc();
    else {
      const code = isBlueprintError(error) ? error.code : 'INTERNAL';
      this.loads?.labels(this.service, this.method, code).inc();
    }
    span.end(error);
  }
}

/** The decorated methods tallying into each requests counter, read by its `collect`. */
const tallies = new WeakMap<object, MethodInstruments[]>();

/** The instruments of the decorated methods of one process. @internal */
export class CacheInstruments {
  private readonly requests: LabelledCounter<RequestLabel> | undefined;
  private readonly loads: LabelledCounter<'service' | 'method' | 'code'> | undefined;
  private readonly loadDuration: LabelledHistogram | undefined;

  constructor(private readonly telemetry: Telemetry) {
    const { metrics } = telemetry;
    if (!metrics.enabled) return;
    this.requests = metrics.counter({
      name: CACHE_METRICS.requests,
      help: '@Cached calls by service, method and result: hit, miss (waited for the loader) or stale.',
      labelNames: ['service', 'method', 'result'],
      collect() {
        for (const method of tallies.get(this) ?? []) method.flush(this);
      },
    });
    this.loads = metrics.counter({
      name: CACHE_METRICS.loads,
      help: 'Loader runs of @Cached methods by service, method and result code (OK or the error code).',
      labelNames: ['service', 'method', 'code'],
    });
    this.loadDuration = metrics.histogram({
      name: CACHE_METRICS.loadDuration,
      help: 'Duration of loader runs of @Cached methods, in seconds.',
      labelNames: ['service', 'method'],
    });
  }

  /** True when there is anything to record: metrics are on, or tracing is enabled. */
  get active(): boolean {
    return this.requests !== undefined || this.telemetry.tracingEnabled;
  }

  /** The instruments of one decorated method, made once when the link wraps it. */
  forMethod(service: string, method: string): MethodInstruments {
    const instruments = new MethodInstruments(service, method, this.telemetry, this.loads, this.loadDuration);
    if (this.requests !== undefined) {
      const list = tallies.get(this.requests);
      if (list === undefined) tallies.set(this.requests, [instruments]);
      else list.push(instruments);
    }
    return instruments;
  }
}

/**
 * A callback for `CacheOptions.onError` that counts absorbed store failures by operation in
 * `blueprint_cache_store_errors_total`; undefined when metrics are off. @internal
 */
export function storeErrorCounter(
  telemetry: Telemetry,
): ((error: unknown, context: { operation: string }) => void) | undefined {
  if (!telemetry.metrics.enabled) return undefined;
  const counter = telemetry.metrics.counter({
    name: CACHE_METRICS.storeErrors,
    help: 'Store failures the cache absorbed (Redis down or slow, breaker open, a corrupt entry), by operation.',
    labelNames: ['operation'],
  });
  return (_error, { operation }) => counter.labels(operation).inc();
}
