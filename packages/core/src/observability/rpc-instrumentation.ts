/**
 * Metrics, spans and logs of RPC calls: a wrapper around the client of a remote process and one around
 * the dispatcher of the RPC server. Without an OpenTelemetry SDK a call allocates nothing for tracing;
 * metric children are looked up once per method.
 */
import {
  type Attributes,
  context as otelContext,
  propagation,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import type { Counter, Histogram } from 'prom-client';
import type { CallContext } from '../contract.js';
import { isBlueprintError } from '../errors.js';
import type { RefusedRpcRequest } from '../rpc/http-server.js';
import type { RpcClient, RpcDispatcher } from '../rpc/types.js';
import type { Telemetry } from './telemetry.js';
import { endSpanWithError, errorCodeOf } from './tracing.js';

/** Value of `rpc.system` on RPC spans. */
export const RPC_SYSTEM = 'blueprint';

/** Names of the RPC metrics. */
export const RPC_METRICS = {
  /** Counter `{service, method, code}` of calls made to other processes; `code` is `OK` or the error code. */
  clientRequests: 'blueprint_rpc_client_requests_total',
  /** Histogram `{service, method}` of the duration of calls made, in seconds. */
  clientDuration: 'blueprint_rpc_client_duration_seconds',
  /** Counter `{service, method, code}` of calls served. */
  serverRequests: 'blueprint_rpc_server_requests_total',
  /** Histogram `{service, method}` of the duration of calls served, in seconds. */
  serverDuration: 'blueprint_rpc_server_duration_seconds',
} as const;

const LABELS = ['service', 'method', 'code'] as const;
type Label = (typeof LABELS)[number];

interface MethodInstruments {
  readonly service: string;
  readonly method: string;
  readonly spanName: string;
  readonly attributes: Attributes;
  readonly ok: { inc(): void } | undefined;
  readonly duration: { observe(value: number): void } | undefined;
}

/** Per-method metric children and span attributes, built on the first call of each method. */
function methodInstruments(
  requests: Counter<Label> | undefined,
  duration: Histogram<'service' | 'method'> | undefined,
  attributes: () => Attributes,
) {
  const byService = new Map<string, Map<string, MethodInstruments>>();
  return (service: string, method: string): MethodInstruments => {
    let methods = byService.get(service);
    if (methods === undefined) {
      methods = new Map();
      byService.set(service, methods);
    }
    let found = methods.get(method);
    if (found === undefined) {
      found = {
        service,
        method,
        spanName: `${service}/${method}`,
        attributes: { ...attributes(), 'rpc.service': service, 'rpc.method': method },
        ok: requests?.labels(service, method, 'OK'),
        duration: duration?.labels(service, method),
      };
      methods.set(method, found);
    }
    return found;
  };
}

function rpcMetrics(telemetry: Telemetry, side: 'client' | 'server') {
  if (!telemetry.metrics.enabled) return { requests: undefined, duration: undefined };
  const requests = telemetry.metrics.counter({
    name: side === 'client' ? RPC_METRICS.clientRequests : RPC_METRICS.serverRequests,
    help:
      side === 'client'
        ? 'RPC calls made to services in other processes, by service, method and result code (OK or the error code).'
        : 'RPC calls served, by service, method and result code (OK or the error code).',
    labelNames: LABELS,
  });
  const duration = telemetry.metrics.histogram({
    name: side === 'client' ? RPC_METRICS.clientDuration : RPC_METRICS.serverDuration,
    help:
      side === 'client'
        ? 'Duration of RPC calls made to other processes, in seconds, as the caller sees it.'
        : 'Duration of RPC calls served, in seconds, from input parsing to the result.',
    labelNames: ['service', 'method'] as const,
  });
  return { requests, duration };
}

function addressAttributes(url: string | undefined): Attributes {
  if (url === undefined) return { 'rpc.system': RPC_SYSTEM, 'network.protocol.name': 'http' };
  const parsed = new URL(url);
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return {
    'rpc.system': RPC_SYSTEM,
    'server.address': parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    'server.port': port,
    'network.protocol.name': 'http',
  };
}

/**
 * Wraps the client of the remote process at `url`: counts calls by code, observes their duration, and
 * when tracing is active makes a CLIENT span (child of the active span, else of the caller's
 * `traceparent` header) whose context is sent in `traceparent`. Returns `client` itself when metrics and
 * tracing are both off.
 */
export function instrumentRpcClient(client: RpcClient, telemetry: Telemetry, url: string): RpcClient {
  if (!telemetry.metrics.enabled && !telemetry.tracingEnabled) return client;
  const { requests, duration } = rpcMetrics(telemetry, 'client');
  const base = addressAttributes(url);
  const instrumentsFor = methodInstruments(requests, duration, () => base);
  const { tracer } = telemetry;

  return {
    call(service, method, input, callContext?: CallContext) {
      const instruments = instrumentsFor(service, method);
      const started = performance.now();
      let span: Span | undefined;
      let sent = callContext;
      if (telemetry.tracingActive()) {
        const active = otelContext.active();
        const incoming = callContext?.headers;
        const parent =
          trace.getSpan(active) === undefined && incoming?.traceparent !== undefined
            ? propagation.extract(active, incoming)
            : active;
        span = tracer.startSpan(
          instruments.spanName,
          { kind: SpanKind.CLIENT, attributes: instruments.attributes },
          parent,
        );
        const headers: Record<string, string> = { ...incoming };
        propagation.inject(trace.setSpan(parent, span), headers);
        sent = { ...callContext, headers };
      }
      return client.call(service, method, input, sent).then(
        (result) => {
          instruments.ok?.inc();
          instruments.duration?.observe((performance.now() - started) / 1000);
          span?.end();
          return result;
        },
        (error: unknown) => {
          requests?.labels(service, method, errorCodeOf(error)).inc();
          instruments.duration?.observe((performance.now() - started) / 1000);
          if (span !== undefined) endSpanWithError(span, error);
          throw error;
        },
      );
    },
    ping: (timeoutMs) => client.ping(timeoutMs),
    close: () => client.close(),
  };
}

/** A dispatcher that records what it serves, and a hook for the requests the server refused. */
export interface InstrumentedDispatcher extends RpcDispatcher {
  /** Counts and logs a request refused before dispatch (unknown method, bad body, shutting down). */
  refused(request: RefusedRpcRequest): void;
}

/**
 * Wraps the dispatcher of the RPC server: counts served calls by code, observes their duration, writes one
 * log line per call (`info`; `warn` for other 5xx codes, `error` for `INTERNAL`, both with `err`) with the
 * correlation id, and when tracing is active runs the implementation inside a SERVER span that is a child
 * of the caller's `traceparent`, so nested calls and publishes become its children. `serverUrl` is read on
 * the first call of each method (the port is known once the server listens).
 */
export function instrumentDispatcher(
  dispatcher: RpcDispatcher,
  telemetry: Telemetry,
  serverUrl: () => string | undefined,
): InstrumentedDispatcher {
  const { requests, duration } = rpcMetrics(telemetry, 'server');
  const instrumentsFor = methodInstruments(requests, duration, () => addressAttributes(serverUrl()));
  const logger = telemetry.logger.child({ component: 'rpc' });
  const { tracer } = telemetry;

  const finish = (
    instruments: MethodInstruments,
    started: number,
    callContext: CallContext,
    span: Span | undefined,
    failed: boolean,
    error: unknown,
  ) => {
    const seconds = (performance.now() - started) / 1000;
    const code = failed ? errorCodeOf(error) : 'OK';
    if (failed) requests?.labels(instruments.service, instruments.method, code).inc();
    else instruments.ok?.inc();
    instruments.duration?.observe(seconds);
    if (span !== undefined) {
      if (failed) endSpanWithError(span, error);
      else span.end();
    }
    const level = failed ? failureLevel(error) : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {
      correlationId: callContext.headers?.['x-correlation-id'],
      service: instruments.service,
      method: instruments.method,
      code,
      durationMs: Math.round(seconds * 100_000) / 100,
    };
    if (span !== undefined) {
      const { traceId, spanId } = span.spanContext();
      fields.traceId = traceId;
      fields.spanId = spanId;
    }
    if (failed) fields.err = error;
    logger[level](fields, 'rpc call served');
  };

  return {
    has: (service, method) => dispatcher.has(service, method),
    readiness: () => dispatcher.readiness(),
    dispatch(service, method, input, callContext) {
      const instruments = instrumentsFor(service, method);
      const started = performance.now();
      let span: Span | undefined;
      let result: Promise<unknown>;
      if (telemetry.tracingActive()) {
        const parent = propagation.extract(otelContext.active(), callContext.headers ?? {});
        span = tracer.startSpan(
          instruments.spanName,
          { kind: SpanKind.SERVER, attributes: instruments.attributes },
          parent,
        );
        result = otelContext.with(trace.setSpan(parent, span), () =>
          dispatcher.dispatch(service, method, input, callContext),
        );
      } else result = dispatcher.dispatch(service, method, input, callContext);
      return result.then(
        (value) => {
          finish(instruments, started, callContext, span, false, undefined);
          return value;
        },
        (error: unknown) => {
          finish(instruments, started, callContext, span, true, error);
          throw error;
        },
      );
    },
    refused({ service, method, error, correlationId }) {
      const known = service !== undefined && method !== undefined && dispatcher.has(service, method);
      const code = errorCodeOf(error);
      // Unknown names come from the request path: they never become label values.
      if (requests !== undefined) requests.labels(known ? service : '-', known ? method : '-', code).inc();
      if (!logger.isLevelEnabled('warn')) return;
      logger.warn(
        {
          correlationId,
          service,
          method,
          code,
          err: error,
        },
        'rpc request refused',
      );
    },
  };
}

function failureLevel(error: unknown): 'info' | 'warn' | 'error' {
  if (!isBlueprintError(error)) return 'error';
  if (error.status < 500) return 'info';
  return error.code === 'INTERNAL' ? 'error' : 'warn';
}
