/**
 * Observability of public HTTP requests, from core's telemetry: one log line per request with its
 * correlation id, a duration histogram by method, route pattern and status, and a SERVER span per
 * request (the root of the request's trace, or a child of the caller's `traceparent`) inside which the
 * contract call runs, so the calls it makes and the events they publish join its trace.
 */
import type { Telemetry } from '@blueprint/core';
import { DURATION_BUCKETS, HistogramTally, type SpanHandle, type TallySeries } from '@blueprint/core/plugin';

/** Name of the request duration histogram (labels `method`, `route`, `status`). */
export const HTTP_REQUEST_DURATION = 'http_server_request_duration_seconds';

/** Route patterns logged at `debug` rather than `info`: what load balancers and scrapers ask all day. */
export const DEFAULT_QUIET_ROUTES: readonly string[] = ['/metrics', '/health/live', '/health/ready'];

/** The route label of a request no route matched. */
export const NO_ROUTE = '-';

/** What a request failed with: the error, and the public code it was answered with. */
export interface Failure {
  readonly error: unknown;
  readonly code: string;
}

/** One request being observed. */
export interface Observation {
  readonly started: number;
  readonly span: SpanHandle;
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly correlationId: string;
  failure: Failure | undefined;
}

/** The observer of an edge; do-nothing parts when telemetry is absent or switched off. */
export interface HttpObserver {
  /** Starts observing a request (the route pattern, or {@link NO_ROUTE}). */
  begin(
    method: string,
    route: string,
    path: string,
    correlationId: string,
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  ): Observation;
  /** Ends it: the histogram, the span's status, the log line. */
  end(observation: Observation, status: number): void;
}

const NOOP_SPAN: SpanHandle = {
  recording: false,
  traceId: undefined,
  setAttribute() {},
  run: (fn) => fn(),
  inject: (headers) => headers,
  end() {},
};

function histogramOf(telemetry: Telemetry): ((labels: string, seconds: number) => void) | undefined {
  if (!telemetry.metrics.enabled) return undefined;
  const series = new Map<string, TallySeries>();
  telemetry.metrics.tallyHistogram({
    name: HTTP_REQUEST_DURATION,
    help: 'Public HTTP requests by method, route (the pattern, "-" when no route matched) and status code, in seconds.',
    labelNames: ['method', 'route', 'status'],
    buckets: DURATION_BUCKETS,
    series: () => series.values(),
  });
  return (key, seconds) => {
    let entry = series.get(key);
    if (entry === undefined) {
      const [method, route, status] = key.split('\u0000') as [string, string, string];
      entry = { labels: { method, route, status }, tally: new HistogramTally(DURATION_BUCKETS) };
      series.set(key, entry);
    }
    entry.tally.observe(seconds);
  };
}

function levelOf(
  status: number,
  failure: Failure | undefined,
  quiet: boolean,
): 'error' | 'warn' | 'info' | 'debug' {
  if (status >= 500) return failure?.code === 'INTERNAL' ? 'error' : 'warn';
  return quiet ? 'debug' : 'info';
}

/** Makes the observer of an edge. */
export function createObserver(
  telemetry: Telemetry | undefined,
  quietRoutes: readonly string[] = DEFAULT_QUIET_ROUTES,
): HttpObserver {
  const quiet = new Set(quietRoutes);
  const logger = telemetry?.logger.child({ component: 'http' });
  const observe = telemetry === undefined ? undefined : histogramOf(telemetry);
  const tracing = telemetry?.tracingEnabled;
  return {
    begin(method, route, path, correlationId, headers) {
      let span = NOOP_SPAN;
      if (tracing && telemetry.tracingActive()) {
        const traceparent = headers.traceparent;
        span = telemetry.startSpan(route === NO_ROUTE ? method : `${method} ${route}`, {
          kind: 'server',
          parentHeaders:
            typeof traceparent === 'string'
              ? (headers as Readonly<Record<string, string | undefined>>)
              : undefined,
          attributes: {
            'http.request.method': method,
            'url.path': path,
            'url.scheme': 'http',
            ...(route === NO_ROUTE ? {} : { 'http.route': route }),
          },
        });
      }
      return { started: performance.now(), span, method, route, path, correlationId, failure: undefined };
    },
    end(observation, status) {
      const seconds = (performance.now() - observation.started) / 1000;
      observe?.(`${observation.method}\u0000${observation.route}\u0000${status}`, seconds);
      const { span, failure } = observation;
      if (span !== NOOP_SPAN) {
        span.setAttribute('http.response.status_code', status);
        span.end(status >= 500 ? (failure?.error ?? new Error(`HTTP ${status}`)) : undefined);
      }
      if (logger === undefined) return;
      const level = levelOf(status, failure, quiet.has(observation.route));
      if (!logger.isLevelEnabled(level)) return;
      const fields: Record<string, unknown> = {
        correlationId: observation.correlationId,
        method: observation.method,
        route: observation.route,
        path: observation.path,
        status,
        durationMs: Math.round(seconds * 100_000) / 100,
      };
      if (span.traceId !== undefined) fields.traceId = span.traceId;
      if (failure !== undefined) {
        fields.code = failure.code;
        if (status >= 500) fields.err = failure.error;
      }
      logger[level](fields, 'http request');
    },
  };
}
