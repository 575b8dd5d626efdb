/**
 * A small in-memory tracer for development: when no OpenTelemetry SDK is registered, `blueprint dev` (and
 * `blueprint start` with `admin.dashboard`) registers this one, so the dashboard can show traces with no
 * package to install. It keeps the last spans of the process in a ring buffer, propagates W3C
 * `traceparent` and keeps the active span in an `AsyncLocalStorage`. It exports nothing anywhere.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  type ContextManager,
  context,
  type Exception,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { requestContext } from '../context/request-context.js';
import type { SpanKindName } from './tracing.js';

/** A finished span, as the dashboard shows it. */
export interface RecordedSpan {
  /** Order of arrival in this process, from 1: ask for spans after the last one you saw. */
  readonly seq: number;
  /** The process that recorded it. */
  readonly process: string;
  /** Trace id (32 hex digits). */
  readonly traceId: string;
  /** Span id (16 hex digits). */
  readonly spanId: string;
  /** The parent span's id, when it has one (it may be in another process). */
  readonly parentSpanId: string | undefined;
  /** Span name, e.g. `POST /orders` or `orders/place`. */
  readonly name: string;
  /** Span kind. */
  readonly kind: SpanKindName;
  /** Start, in epoch milliseconds (fractional). */
  readonly startMs: number;
  /** Duration in milliseconds. */
  readonly durationMs: number;
  /** `error` when the span ended with an error. */
  readonly status: 'ok' | 'error';
  /** The error's code (`error.type`), when it failed. */
  readonly errorCode: string | undefined;
  /** The correlation id of the request it ran in, when known (`x-correlation-id`). */
  readonly correlationId: string | undefined;
  /** Its attributes. */
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

/** The recent spans of a process. */
export interface SpanRecorder {
  /** The finished spans after `seq` (all that are kept when 0), oldest first, at most `limit`. */
  since(seq: number, limit?: number): RecordedSpan[];
  /** How many spans it keeps. */
  readonly capacity: number;
}

/** Spans kept per process by default: a few hundred requests of a handful of spans each. */
export const DEFAULT_SPAN_CAPACITY = 2_000;

const KIND_NAMES: Readonly<Record<SpanKind, SpanKindName>> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

class RingBuffer implements SpanRecorder {
  private readonly spans: RecordedSpan[] = [];
  private next = 1;

  constructor(readonly capacity: number) {}

  push(span: Omit<RecordedSpan, 'seq'>): void {
    this.spans.push({ ...span, seq: this.next++ });
    if (this.spans.length > this.capacity) this.spans.splice(0, this.spans.length - this.capacity);
  }

  since(seq: number, limit = this.capacity): RecordedSpan[] {
    const first = this.spans.findIndex((span) => span.seq > seq);
    return first < 0 ? [] : this.spans.slice(first, first + limit);
  }
}

class RecordingSpan implements Span {
  private readonly attributes: Record<string, string | number | boolean> = {};
  private status: SpanStatus = { code: SpanStatusCode.UNSET };
  private ended = false;
  private readonly started = performance.now();
  private readonly startMs = Date.now();
  private readonly correlationId = requestContext()?.headers?.['x-correlation-id'];

  constructor(
    private readonly context: SpanContext,
    private readonly parentSpanId: string | undefined,
    private name: string,
    private readonly kind: SpanKind,
    private readonly sink: (span: Omit<RecordedSpan, 'seq'>) => void,
    private readonly process: string,
    attributes: Attributes | undefined,
  ) {
    if (attributes !== undefined) this.setAttributes(attributes);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: unknown): this {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      this.attributes[key] = value;
    }
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) this.setAttribute(key, value);
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }

  updateName(name: string): this {
    this.name = name;
    return this;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const failed = this.status.code === SpanStatusCode.ERROR;
    const code = this.attributes['error.type'];
    this.sink({
      process: this.process,
      traceId: this.context.traceId,
      spanId: this.context.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: KIND_NAMES[this.kind],
      startMs: this.startMs,
      durationMs: performance.now() - this.started,
      status: failed ? 'error' : 'ok',
      errorCode: failed ? (typeof code === 'string' ? code : 'INTERNAL') : undefined,
      correlationId: this.correlationId,
      attributes: this.attributes,
    });
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception): void {
    // The code is recorded as `error.type`; messages stay out of the dashboard, as they stay out of answers.
    void exception;
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

class RecordingTracer implements Tracer {
  constructor(
    private readonly sink: (span: Omit<RecordedSpan, 'seq'>) => void,
    private readonly process: string,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, parent: Context = context.active()): Span {
    const parentContext = options.root === true ? undefined : trace.getSpanContext(parent);
    const spanContext: SpanContext = {
      traceId: parentContext?.traceId ?? hex(16),
      spanId: hex(8),
      traceFlags: TraceFlags.SAMPLED,
    };
    return new RecordingSpan(
      spanContext,
      parentContext?.spanId,
      name,
      options.kind ?? SpanKind.INTERNAL,
      this.sink,
      this.process,
      options.attributes,
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as F;
    const [options, parent] = rest as [SpanOptions | undefined, Context | undefined];
    const span = this.startSpan(name, options, parent ?? context.active());
    return context.with(trace.setSpan(parent ?? context.active(), span), () => fn(span)) as ReturnType<F>;
  }
}

class StorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** W3C `traceparent`, both ways. */
class TraceparentPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (span === undefined) return;
    const flags = `0${(span.traceFlags & TraceFlags.SAMPLED).toString(16)}`;
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, 'traceparent');
    const value = Array.isArray(header) ? header[0] : header;
    const match = typeof value === 'string' ? TRACEPARENT.exec(value.trim()) : null;
    if (match === null) return ctx;
    return trace.setSpanContext(ctx, {
      traceId: match[1]!,
      spanId: match[2]!,
      traceFlags: Number.parseInt(match[3]!, 16),
      isRemote: true,
    });
  }

  fields(): string[] {
    return ['traceparent'];
  }
}

/**
 * Registers the in-memory tracer as the global OpenTelemetry provider, context manager and propagator,
 * and returns its recorder. Returns `undefined` (and registers nothing) when an SDK is already registered:
 * spans then go where the user sends them.
 */
export function installSpanRecorder(
  process: string,
  capacity = DEFAULT_SPAN_CAPACITY,
): SpanRecorder | undefined {
  const buffer = new RingBuffer(capacity);
  const tracer = new RecordingTracer((span) => buffer.push(span), process);
  const provider: TracerProvider = { getTracer: () => tracer };
  if (!trace.setGlobalTracerProvider(provider)) return undefined;
  context.setGlobalContextManager(new StorageContextManager());
  propagation.setGlobalPropagator(new TraceparentPropagator());
  return buffer;
}
