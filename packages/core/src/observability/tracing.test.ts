import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InMemoryTracing, startInMemoryTracing } from '../../../../test/harness/in-memory-tracing.js';
import { NotFoundError } from '../errors.js';
import { createTracing, tracerRegistered } from './tracing.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing without an SDK', () => {
  it('is inactive: spans are a shared do-nothing handle and headers stay as they are', () => {
    expect(tracerRegistered()).toBe(false);
    const tracing = createTracing(true);
    expect(tracing.tracingActive()).toBe(false);
    const a = tracing.startSpan('a', { kind: 'producer' });
    const b = tracing.startSpan('b');
    expect(a).toBe(b);
    expect(a.recording).toBe(false);
    expect(a.run(() => 42)).toBe(42);
    expect(a.inject({ 'x-correlation-id': 'c1' })).toEqual({ 'x-correlation-id': 'c1' });
    expect(tracing.injectHeaders({})).toEqual({});
    a.end(new Error('ignored'));
  });
});

describe('tracing with an SDK', () => {
  let sdk: InMemoryTracing;
  beforeAll(() => {
    sdk = startInMemoryTracing();
  });
  afterAll(() => sdk.stop());

  it('starts spans that nest through run() and carry the parent in traceparent', () => {
    const tracing = createTracing(true);
    expect(tracing.tracingActive()).toBe(true);
    const parent = tracing.startSpan('order.placed publish', {
      kind: 'producer',
      attributes: { 'messaging.destination.name': 'order.placed' },
    });
    const headers = parent.run(() => {
      const child = tracing.startSpan('store');
      child.end();
      return tracing.injectHeaders<Record<string, string>>({});
    });
    expect(parent.inject({})).toEqual({
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    });
    parent.end();
    const [child, producer] = sdk.spans();
    expect(producer!.kind).toBe(SpanKind.PRODUCER);
    expect(producer!.attributes).toEqual({ 'messaging.destination.name': 'order.placed' });
    expect(child!.parentSpanContext?.spanId).toBe(producer!.spanContext().spanId);
    expect(headers.traceparent).toContain(producer!.spanContext().traceId);
    expect(parent.traceId).toBe(producer!.spanContext().traceId);
    sdk.reset();
  });

  it('continues a trace from parentHeaders, and records a failure with its code', () => {
    const tracing = createTracing(true);
    const span = tracing.startSpan('order.placed process', {
      kind: 'consumer',
      parentHeaders: { traceparent: TRACEPARENT },
    });
    span.end(new NotFoundError('order o1 does not exist'));
    const [consumer] = sdk.spans();
    expect(consumer!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(consumer!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(consumer!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'order o1 does not exist' });
    expect(consumer!.attributes['error.type']).toBe('NOT_FOUND');
    expect(consumer!.events[0]?.name).toBe('exception');
    expect(tracing.extractContext({ traceparent: TRACEPARENT })).not.toBe(undefined);
    expect(trace.getSpanContext(tracing.extractContext({ traceparent: TRACEPARENT }))?.spanId).toBe(
      'b7ad6b7169203331',
    );
    sdk.reset();
  });

  it('stays off when the topology disables tracing, even with an SDK', () => {
    const tracing = createTracing(false);
    expect(tracing.tracingActive()).toBe(false);
    tracing.startSpan('nothing').end();
    expect(sdk.spans()).toEqual([]);
  });
});
