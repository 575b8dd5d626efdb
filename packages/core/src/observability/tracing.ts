/**
 * Tracing through the OpenTelemetry API only: core creates spans with `trace.getTracer('@blueprint/core')`
 * and propagates W3C `traceparent` with the API's global propagator. The user registers an SDK; without
 * one every span is skipped after a single check, so tracing costs next to nothing.
 */
import {
  type Attributes,
  type Context,
  context,
  type Exception,
  ProxyTracerProvider,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { isBlueprintError } from '../errors.js';
import { CORE_VERSION } from './version.js';

/** Kind of a span, as the OpenTelemetry specification names them. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

const KINDS: Readonly<Record<SpanKindName, SpanKind>> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Options of {@link Tracing.startSpan}. */
export interface StartSpanOptions {
  /** Span kind. Default: `internal`. */
  readonly kind?: SpanKindName;
  /** Attributes, with the semantic-convention names (`messaging.system`, `messaging.destination.name`, ...). */
  readonly attributes?: Attributes;
  /**
   * Headers that carried a trace context from another process (an event envelope's headers): the span
   * becomes a child of the span in their `traceparent`. Default: the span is a child of the active span.
   */
  readonly parentHeaders?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A started span. End it exactly once. When tracing is off every method does nothing. */
export interface SpanHandle {
  /** True when a real span records (an SDK is registered and sampled it). */
  readonly recording: boolean;
  /** The trace id, when recording. */
  readonly traceId: string | undefined;
  /** Sets an attribute. */
  setAttribute(key: string, value: string | number | boolean): void;
  /** Runs `fn` with this span active: spans started inside (RPC calls, publishes) become its children. */
  run<T>(fn: () => T): T;
  /** Writes this span's `traceparent` (and `tracestate`) into `headers` and returns them. */
  inject<H extends Record<string, string>>(headers: H): H;
  /**
   * Ends the span. With an error: records it as an exception, sets the status to ERROR and `error.type`
   * to its code.
   */
  end(error?: unknown): void;
}

/** Tracing helpers of a process, for core and plugins. */
export interface Tracing {
  /** The tracer `@blueprint/core`. */
  readonly tracer: Tracer;
  /**
   * True when tracing is enabled in the topology and an SDK is registered. A cheap check: call it before
   * building attributes on a hot path.
   */
  tracingActive(): boolean;
  /** Starts a span (a do-nothing handle when tracing is not active). */
  startSpan(name: string, options?: StartSpanOptions): SpanHandle;
  /**
   * Writes the active trace context (`traceparent`, `tracestate`, `baggage` with the registered
   * propagators) into `headers` and returns them. Does nothing when tracing is not active.
   */
  injectHeaders<H extends Record<string, string>>(headers: H): H;
  /**
   * The context carried by `headers` (on top of the active one), for `context.with(ctx, fn)` from
   * `@opentelemetry/api`. The active context when tracing is not active.
   */
  extractContext(headers: Readonly<Record<string, string | undefined>>): Context;
}

const NOOP_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

/**
 * True when a tracer provider other than the API's no-op one is registered globally. Costs a global
 * lookup; nothing is allocated.
 */
export function tracerRegistered(): boolean {
  const provider = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  return delegate !== NOOP_PROVIDER;
}

/** The code of an error for metrics, logs and spans: its Blueprint code, else `INTERNAL`. */
export function errorCodeOf(error: unknown): string {
  return isBlueprintError(error) ? error.code : 'INTERNAL';
}

/** Ends `span` as failed by `error`. */
export function endSpanWithError(span: Span, error: unknown): void {
  const code = errorCodeOf(error);
  span.recordException(
    error instanceof Error ? (error as Exception) : { name: code, message: String(error), code },
  );
  span.setAttribute('error.type', code);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}

const NOOP_HANDLE: SpanHandle = Object.freeze({
  recording: false,
  traceId: undefined,
  setAttribute() {},
  run: <T>(fn: () => T): T => fn(),
  inject: <H extends Record<string, string>>(headers: H): H => headers,
  end() {},
});

class RecordingSpanHandle implements SpanHandle {
  private readonly span: Span;
  private readonly context: Context;

  constructor(span: Span, parent: Context) {
    this.span = span;
    this.context = trace.setSpan(parent, span);
  }

  get recording(): boolean {
    return this.span.isRecording();
  }

  get traceId(): string | undefined {
    return this.span.spanContext().traceId;
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.span.setAttribute(key, value);
  }

  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  inject<H extends Record<string, string>>(headers: H): H {
    propagation.inject(this.context, headers);
    return headers;
  }

  end(error?: unknown): void {
    if (error === undefined) this.span.end();
    else endSpanWithError(this.span, error);
  }
}

/** Creates the tracing helpers of a process. */
export function createTracing(enabled: boolean): Tracing {
  const tracer = trace.getTracer('@blueprint/core', CORE_VERSION);
  const tracingActive = enabled ? tracerRegistered : () => false;
  return {
    tracer,
    tracingActive,
    startSpan(name, options = {}) {
      if (!tracingActive()) return NOOP_HANDLE;
      const active = context.active();
      const parent =
        options.parentHeaders === undefined ? active : propagation.extract(active, options.parentHeaders);
      const span = tracer.startSpan(
        name,
        {
          kind: KINDS[options.kind ?? 'internal'],
          ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
        },
        parent,
      );
      return new RecordingSpanHandle(span, parent);
    },
    injectHeaders(headers) {
      if (tracingActive()) propagation.inject(context.active(), headers);
      return headers;
    },
    extractContext(headers) {
      const active = context.active();
      return tracingActive() ? propagation.extract(active, headers) : active;
    },
  };
}
