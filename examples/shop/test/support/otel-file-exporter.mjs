/**
 * A test-only OpenTelemetry SDK for the processes of the split shop, loaded with `node --import` before
 * the app: a BasicTracerProvider whose SimpleSpanProcessor appends every finished span as one JSON line
 * to the file named by `BLUEPRINT_TEST_SPANS_FILE`, context through AsyncLocalStorage, and W3C trace
 * context as the propagator. Plain JavaScript: it runs before any TypeScript loader is registered.
 */
import { appendFileSync } from 'node:fs';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const file = process.env.BLUEPRINT_TEST_SPANS_FILE;
if (file === undefined || file === '') {
  throw new Error('otel-file-exporter.mjs needs BLUEPRINT_TEST_SPANS_FILE: the file to append spans to');
}

const KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];

/** @param {import('@opentelemetry/sdk-trace-base').ReadableSpan} span */
function toLine(span) {
  const { traceId, spanId } = span.spanContext();
  return `${JSON.stringify({
    name: span.name,
    kind: KINDS[span.kind],
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    status: span.status.code,
    attributes: span.attributes,
    pid: process.pid,
  })}\n`;
}

/** @type {import('@opentelemetry/sdk-trace-base').SpanExporter} */
const exporter = {
  export(spans, done) {
    try {
      appendFileSync(file, spans.map(toLine).join(''));
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error });
    }
  },
  shutdown: () => Promise.resolve(),
};

trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
