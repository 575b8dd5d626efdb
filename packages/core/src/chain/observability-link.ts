/**
 * The observability link: metrics, spans and logs of contract calls, for local calls as for remote ones.
 *
 * - `call`, remote: `blueprint_rpc_client_*` metrics and a CLIENT span (child of the active span, else of
 *   the caller's `traceparent` header) whose context is sent in `traceparent`.
 * - `serve`: `blueprint_rpc_server_*` metrics, a SERVER span (child of the caller's `traceparent`) that is
 *   active while the implementation runs, and one log line per call.
 * - `call`, local: `blueprint_rpc_local_*` metrics and an INTERNAL span with the same name, so a trace has
 *   the same shape in a monolith and once split.
 *
 * It stays out of every chain when both metrics and tracing are off. Without an OpenTelemetry SDK a call
 * allocates nothing for tracing.
 */
import {
  type Attributes,
  type Context,
  context as otelContext,
  propagation,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import type { CallContext } from '../contract.js';
import { isBlueprintError } from '../errors.js';
import { CallMetrics, type MethodTally } from '../observability/call-metrics.js';
import type { Telemetry } from '../observability/telemetry.js';
import { endSpanWithError, errorCodeOf } from '../observability/tracing.js';
import type { Link, LinkHandler, LinkTarget } from './link.js';

/** Value of `rpc.system` on RPC spans. */
export const RPC_SYSTEM = 'blueprint';

/** Names of the call metrics. */
export const RPC_METRICS = {
  /** Counter `{service, method, code}` of calls made to other processes; `code` is `OK` or the error code. */
  clientRequests: 'blueprint_rpc_client_requests_total',
  /** Histogram `{service, method}` of the duration of calls made, in seconds. */
  clientDuration: 'blueprint_rpc_client_duration_seconds',
  /** Counter `{service, method, code}` of calls served. */
  serverRequests: 'blueprint_rpc_server_requests_total',
  /** Histogram `{service, method}` of the duration of calls served, in seconds. */
  serverDuration: 'blueprint_rpc_server_duration_seconds',
  /** Counter `{service, method, code}` of calls to services hosted in the same process. */
  localRequests: 'blueprint_rpc_local_requests_total',
  /** Histogram `{service, method}` of the duration of in-process calls, in seconds. */
  localDuration: 'blueprint_rpc_local_duration_seconds',
} as const;

/** What the observability link needs besides the telemetry. */
export interface ObservabilityLinkOptions {
  /** The URL of the process hosting `service`, for client span attributes. */
  readonly addressOf: (service: string) => string | undefined;
  /** The URL this process's RPC server listens on, once it does. */
  readonly serverUrl: () => string | undefined;
}

/** The call metrics and span attributes of one process, shared by its chains. */
export interface CallObservers {
  readonly client: CallMetrics | undefined;
  readonly server: CallMetrics | undefined;
  readonly local: CallMetrics | undefined;
}

/** Creates the call metrics of a process (none when metrics are off). */
export function createCallObservers(telemetry: Telemetry): CallObservers {
  if (!telemetry.metrics.enabled) return { client: undefined, server: undefined, local: undefined };
  const metrics = telemetry.metrics;
  return {
    client: new CallMetrics(metrics, {
      requests: RPC_METRICS.clientRequests,
      requestsHelp:
        'RPC calls made to services in other processes, by service, method and result code (OK or the error code).',
      duration: RPC_METRICS.clientDuration,
      durationHelp: 'Duration of RPC calls made to other processes, in seconds, as the caller sees it.',
    }),
    server: new CallMetrics(metrics, {
      requests: RPC_METRICS.serverRequests,
      requestsHelp: 'RPC calls served, by service, method and result code (OK or the error code).',
      duration: RPC_METRICS.serverDuration,
      durationHelp: 'Duration of RPC calls served, in seconds, from input parsing to the result.',
    }),
    local: new CallMetrics(metrics, {
      requests: RPC_METRICS.localRequests,
      requestsHelp:
        'Calls to services hosted in the same process, by service, method and result code (OK or the error code).',
      duration: RPC_METRICS.localDuration,
      durationHelp: 'Duration of calls to services hosted in the same process, in seconds.',
    }),
  };
}

/** Attributes of `rpc.*` spans for a call to (or served at) `url`. */
export function addressAttributes(url: string | undefined): Attributes {
  if (url === undefined) return { 'rpc.system': RPC_SYSTEM };
  const parsed = new URL(url);
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return {
    'rpc.system': RPC_SYSTEM,
    'server.address': parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    'server.port': port,
    'network.protocol.name': parsed.protocol.replace(/:$/, ''),
  };
}

/** The observability link of a process. */
export function observabilityLink(
  telemetry: Telemetry,
  observers: CallObservers,
  options: ObservabilityLinkOptions,
): Link {
  const active = telemetry.metrics.enabled || telemetry.tracingEnabled;
  return {
    name: 'observability',
    stage: 'observability',
    wrap(target) {
      if (!active || target.contract === undefined || target.definition === undefined) return undefined;
      if (target.entry === 'serve') return serveSide(siteOf(target, observers.server), telemetry, options);
      if (target.entry !== 'call') return undefined;
      if (target.placement === 'remote')
        return clientSide(siteOf(target, observers.client), telemetry, options);
      return localSide(siteOf(target, observers.local), telemetry);
    },
  };
}

type ContractMethod = (input: unknown, context?: CallContext) => Promise<unknown>;

/** The method a handler observes: its names, its span name, and its metrics' tally (none without metrics). */
interface CallSite {
  readonly service: string;
  readonly method: string;
  /** `<service>/<method>`. */
  readonly spanName: string;
  readonly tally: ReturnType<CallMetrics['forMethod']> | undefined;
}

function siteOf(target: LinkTarget, metrics: CallMetrics | undefined): CallSite {
  const service = target.contract!.name;
  const { method } = target;
  return { service, method, spanName: `${service}/${method}`, tally: metrics?.forMethod(service, method) };
}

function clientSide(site: CallSite, telemetry: Telemetry, options: ObservabilityLinkOptions): LinkHandler {
  const { service, method, spanName, tally } = site;
  const attributes = {
    ...addressAttributes(options.addressOf(service)),
    'rpc.service': service,
    'rpc.method': method,
  };
  const { tracer } = telemetry;
  return (next: ContractMethod) => (input: unknown, callContext?: CallContext) => {
    const started = performance.now();
    let span: Span | undefined;
    let sent = callContext;
    if (telemetry.tracingActive()) {
      const activeContext = otelContext.active();
      const incoming = callContext?.headers;
      const parent =
        trace.getSpan(activeContext) === undefined && incoming?.traceparent !== undefined
          ? propagation.extract(activeContext, incoming)
          : activeContext;
      span = tracer.startSpan(spanName, { kind: SpanKind.CLIENT, attributes }, parent);
      const headers: Record<string, string> = { ...incoming };
      propagation.inject(trace.setSpan(parent, span), headers);
      sent = { ...callContext, headers };
    }
    return settle(next(input, sent), started, tally, span);
  };
}

function localSide(site: CallSite, telemetry: Telemetry): LinkHandler {
  const { service, method, spanName, tally } = site;
  const attributes = {
    'rpc.system': RPC_SYSTEM,
    'rpc.service': service,
    'rpc.method': method,
    'network.transport': 'inproc',
  };
  const { tracer } = telemetry;
  return (next: ContractMethod) => (input: unknown, callContext?: CallContext) => {
    const started = tally === undefined ? 0 : performance.now();
    if (!telemetry.tracingActive()) return settle(next(input, callContext), started, tally, undefined);
    const parent = otelContext.active();
    const span = tracer.startSpan(spanName, { kind: SpanKind.INTERNAL, attributes }, parent);
    return settle(runIn(trace.setSpan(parent, span), next, input, callContext), started, tally, span);
  };
}

function serveSide(site: CallSite, telemetry: Telemetry, options: ObservabilityLinkOptions): LinkHandler {
  const { service, method, spanName, tally } = site;
  let attributes: Attributes | undefined;
  const logger = telemetry.logger.child({ component: 'rpc' });
  const { tracer } = telemetry;
  return (next: ContractMethod) => (input: unknown, callContext?: CallContext) => {
    const started = performance.now();
    let span: Span | undefined;
    let result: Promise<unknown>;
    if (telemetry.tracingActive()) {
      attributes ??= {
        ...addressAttributes(options.serverUrl()),
        'rpc.service': service,
        'rpc.method': method,
      };
      const parent = propagation.extract(otelContext.active(), callContext?.headers ?? {});
      span = tracer.startSpan(spanName, { kind: SpanKind.SERVER, attributes }, parent);
      result = runIn(trace.setSpan(parent, span), next, input, callContext);
    } else result = next(input, callContext);
    const log = (failed: boolean, error: unknown) => {
      const level = failed ? failureLevel(error) : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const fields: Record<string, unknown> = {
        correlationId: callContext?.headers?.['x-correlation-id'],
        service,
        method,
        code: failed ? errorCodeOf(error) : 'OK',
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      };
      if (span !== undefined) {
        const { traceId, spanId } = span.spanContext();
        fields.traceId = traceId;
        fields.spanId = spanId;
      }
      if (failed) fields.err = error;
      logger[level](fields, 'rpc call served');
    };
    return result.then(
      (value) => {
        finish(started, tally, span, false, undefined);
        log(false, undefined);
        return value;
      },
      (error: unknown) => {
        finish(started, tally, span, true, error);
        log(true, error);
        throw error;
      },
    );
  };
}

function runIn(context: Context, next: ContractMethod, input: unknown, callContext?: CallContext) {
  return otelContext.with(context, () => next(input, callContext));
}

function settle(
  result: Promise<unknown>,
  started: number,
  tally: MethodTally | undefined,
  span: Span | undefined,
): Promise<unknown> {
  if (tally === undefined && span === undefined) return result;
  return result.then(
    (value) => {
      finish(started, tally, span, false, undefined);
      return value;
    },
    (error: unknown) => {
      finish(started, tally, span, true, error);
      throw error;
    },
  );
}

function finish(
  started: number,
  tally: MethodTally | undefined,
  span: Span | undefined,
  failed: boolean,
  error: unknown,
) {
  tally?.record((performance.now() - started) / 1000, failed ? errorCodeOf(error) : undefined);
  if (span === undefined) return;
  if (failed) endSpanWithError(span, error);
  else span.end();
}

function failureLevel(error: unknown): 'info' | 'warn' | 'error' {
  if (!isBlueprintError(error)) return 'error';
  if (error.status < 500) return 'info';
  return error.code === 'INTERNAL' ? 'error' : 'warn';
}
