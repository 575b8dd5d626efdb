/**
 * Observability of the public HTTP API: one log line per request with its correlation id, a duration
 * histogram by route and status, and a SERVER span per request (the root of the request's trace) inside
 * which the route handler runs, so the calls it makes and the events they publish join its trace.
 */
import type { CallContext, Telemetry } from '@blueprint/core';
import type { SpanHandle } from '@blueprint/core/plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Name of the request duration histogram (labels `method`, `route`, `status`). */
export const HTTP_REQUEST_DURATION = 'http_server_request_duration_seconds';

/** Routes answered for operators; their requests are logged at `debug`, not `info`. */
const OPERATOR_ROUTES = new Set(['/metrics', '/health/live', '/health/ready']);

interface Observation {
  readonly started: number;
  readonly span: SpanHandle;
  readonly route: string;
  /** The error the error handler answered with, and its public code. */
  failure?: { readonly error: unknown; readonly code: string };
}

/** What the routes use: the call context of a request, and a way to run a handler inside its span. */
export interface HttpObservability {
  /** The call context for contract calls made for `request`: its correlation id and trace context. */
  contextOf(request: FastifyRequest): CallContext;
  /** Wraps a route handler so it runs inside the request's span. */
  traced<R>(
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<R>,
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<R>;
  /** Records the error a request failed with and its public code, for the request's log line and span. */
  failed(request: FastifyRequest, error: unknown, code: string): void;
}

/**
 * Adds the hooks that observe every request of `app` (register it before the routes). The correlation
 * id is the request id: the caller's `x-correlation-id` header, or a new UUID.
 */
export function observeHttp(app: FastifyInstance, telemetry: Telemetry): HttpObservability {
  const observations = new WeakMap<FastifyRequest, Observation>();
  const logger = telemetry.logger.child({ component: 'http' });
  const duration = telemetry.metrics.enabled
    ? telemetry.metrics.histogram({
        name: HTTP_REQUEST_DURATION,
        help: 'Public HTTP requests by method, route (the pattern, "-" when no route matched) and status code, in seconds.',
        labelNames: ['method', 'route', 'status'],
      })
    : undefined;

  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url ?? '-';
    const headers = request.headers as Record<string, string | undefined>;
    const span = telemetry.startSpan(`${request.method} ${route === '-' ? '' : route}`.trim(), {
      kind: 'server',
      parentHeaders: headers.traceparent === undefined ? undefined : headers,
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0] ?? request.url,
        'url.scheme': 'http',
        ...(route === '-' ? {} : { 'http.route': route }),
      },
    });
    observations.set(request, { started: performance.now(), span, route });
  });

  app.addHook('onResponse', async (request, reply) => {
    const observation = observations.get(request);
    if (observation === undefined) return;
    const seconds = (performance.now() - observation.started) / 1000;
    const status = reply.statusCode;
    duration?.labels(request.method, observation.route, String(status)).observe(seconds);
    const { span, failure } = observation;
    span.setAttribute('http.response.status_code', status);
    span.end(status >= 500 ? (failure?.error ?? new Error(`HTTP ${status}`)) : undefined);
    const level =
      status >= 500
        ? failure?.code === 'INTERNAL'
          ? 'error'
          : 'warn'
        : OPERATOR_ROUTES.has(observation.route)
          ? 'debug'
          : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {
      correlationId: String(request.id),
      method: request.method,
      route: observation.route,
      path: request.url,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
    };
    if (span.traceId !== undefined) fields.traceId = span.traceId;
    if (failure !== undefined) {
      fields.code = failure.code;
      if (status >= 500) fields.err = failure.error;
    }
    logger[level](fields, 'http request');
  });

  return {
    contextOf(request) {
      const headers: Record<string, string> = { 'x-correlation-id': String(request.id) };
      observations.get(request)?.span.inject(headers);
      return { headers };
    },
    traced(handler) {
      return (request, reply) => {
        const span = observations.get(request)?.span;
        return span === undefined ? handler(request, reply) : span.run(() => handler(request, reply));
      };
    },
    failed(request, error, code) {
      const observation = observations.get(request);
      if (observation !== undefined) observation.failure = { error, code };
    },
  };
}
