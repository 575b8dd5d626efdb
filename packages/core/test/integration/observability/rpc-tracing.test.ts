import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InMemoryTracing, startInMemoryTracing } from '../../../../../test/harness/in-memory-tracing.js';
import { Orders, type Pair, startPair } from './obs-app.js';

let sdk: InMemoryTracing;
let pair: Pair | undefined;
beforeAll(() => {
  sdk = startInMemoryTracing();
});
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
  sdk.reset();
});
afterAll(() => sdk.stop());

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const find = (spans: readonly ReadableSpan[], name: string, kind: SpanKind) => {
  const found = spans.find((s) => s.name === name && s.kind === kind);
  if (found === undefined)
    throw new Error(`no ${SpanKind[kind]} span ${name} in ${spans.map((s) => s.name)}`);
  return found;
};

describe('traces across processes over http RPC', () => {
  it('makes one trace: client span → server span → nested client span → nested server span', async () => {
    pair = await startPair();
    const root = trace.getTracer('test').startSpan('POST /orders');
    await context.with(trace.setSpan(context.active(), root), () =>
      pair!.front.client(Orders).place({ sku: 'a' }, { headers: { 'x-correlation-id': 'cid-t' } }),
    );
    root.end();
    const spans = sdk.spans();
    const client = find(spans, 'orders/place', SpanKind.CLIENT);
    const server = find(spans, 'orders/place', SpanKind.SERVER);
    const nestedClient = find(spans, 'stock/level', SpanKind.CLIENT);
    const nestedServer = find(spans, 'stock/level', SpanKind.SERVER);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([root.spanContext().traceId]));
    expect(parentOf(client)).toBe(root.spanContext().spanId);
    expect(parentOf(server)).toBe(idOf(client));
    // The implementation passed on its incoming headers (with the caller's traceparent): the active
    // server span still wins as the parent.
    expect(parentOf(nestedClient)).toBe(idOf(server));
    expect(parentOf(nestedServer)).toBe(idOf(nestedClient));
    expect(client.attributes).toMatchObject({
      'rpc.system': 'blueprint',
      'rpc.service': 'orders',
      'rpc.method': 'place',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(pair.back.rpcUrl!).port),
    });
    expect(server.attributes).toMatchObject({
      'rpc.system': 'blueprint',
      'rpc.service': 'orders',
      'rpc.method': 'place',
      'server.port': Number(new URL(pair.back.rpcUrl!).port),
    });
    const line = pair.logs.back.find((l) => l.msg === 'rpc call served');
    expect(line).toMatchObject({
      correlationId: 'cid-t',
      traceId: root.spanContext().traceId,
      spanId: idOf(server),
    });
  });

  it('starts a new trace for a call made outside any span, and records errors on both sides', async () => {
    pair = await startPair();
    await pair.front
      .client(Orders)
      .place({ sku: 'missing' })
      .catch(() => undefined);
    const spans = sdk.spans();
    const client = find(spans, 'orders/place', SpanKind.CLIENT);
    expect(parentOf(client)).toBeUndefined();
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    for (const span of spans) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'sku missing does not exist' });
      expect(span.attributes['error.type']).toBe('NOT_FOUND');
    }
    expect(spans).toHaveLength(4);
  });

  it('makes no spans when the topology disables tracing', async () => {
    pair = await startPair({ observability: { tracing: { enabled: false } } });
    await pair.front.client(Orders).place({ sku: 'a' });
    expect(sdk.spans()).toEqual([]);
    expect(pair.logs.back.find((l) => l.msg === 'rpc call served')?.traceId).toBeUndefined();
  });
});
