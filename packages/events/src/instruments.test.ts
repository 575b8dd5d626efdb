import { defineApp, defineService, NotFoundError, service, type Telemetry } from '@blueprint/core';
import { createTelemetry } from '@blueprint/core/plugin';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startInMemoryTracing } from '../../../test/harness/in-memory-tracing.js';
import { defineEvent } from './define-event.js';
import { createEventBus } from './event-bus.js';
import { OnEvent } from './on-event.js';
import { describeEvents } from './plugin.js';
import { createMemoryTransport } from './transports/memory/index.js';

const OrderPlaced = defineEvent('order.placed', z.object({ orderId: z.string() }));

/** The value of the series `name{labels}` in the process's registry (`name_count` etc. for a histogram). */
async function series(telemetry: Telemetry, name: string, labels: Record<string, string>) {
  for (const metric of await telemetry.metrics.registry.getMetricsAsJSON()) {
    const found = (
      metric.values as { metricName?: string; labels: Record<string, unknown>; value: number }[]
    ).find(
      (value) =>
        (value.metricName ?? metric.name) === name &&
        Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted),
    );
    if (found !== undefined) return found.value;
  }
  return undefined;
}

function observedBus() {
  const logs: Record<string, unknown>[] = [];
  const telemetry = createTelemetry({
    app: 'shop',
    process: 'main',
    logDestination: { write: (line) => logs.push(JSON.parse(line)) },
  });
  const bus = createEventBus({ transport: createMemoryTransport(), telemetry });
  return { bus, telemetry, logs };
}

describe('bus metrics and logs', () => {
  it('counts publishes, handler runs, retries and dead letters, and logs each handled event', async () => {
    const { bus, telemetry, logs } = observedBus();
    await bus.subscribe(
      OrderPlaced,
      (order) => {
        if (order.orderId === 'bad') throw new NotFoundError(`order ${order.orderId} is gone`);
      },
      { group: 'billing', maxAttempts: 2, backoff: [1] },
    );
    const headers = { 'x-correlation-id': 'cid-7' };
    await bus.publish(OrderPlaced, { orderId: 'o1' }, { headers });
    await bus.publish(OrderPlaced, { orderId: 'o2' }, { headers });
    await bus.publish(OrderPlaced, { orderId: 'bad' }, { headers });
    await expect(bus.publish(OrderPlaced, { orderId: 3 } as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await vi.waitFor(() => expect(bus.stats().subscriptions[0]!.deadLettered).toBe(1));

    const text = await telemetry.metrics.text();
    const sample = (name: string, labels: Record<string, string>) => series(telemetry, name, labels);
    const labels = { event: 'order.placed', group: 'billing' };
    expect(await sample('blueprint_events_published_total', { event: 'order.placed', code: 'OK' })).toBe(3);
    expect(
      await sample('blueprint_events_published_total', { event: 'order.placed', code: 'VALIDATION_FAILED' }),
    ).toBe(1);
    expect(await sample('blueprint_events_handled_total', { ...labels, code: 'OK' })).toBe(2);
    expect(await sample('blueprint_events_handled_total', { ...labels, code: 'NOT_FOUND' })).toBe(2);
    expect(await sample('blueprint_events_retried_total', labels)).toBe(1);
    expect(await sample('blueprint_events_dead_lettered_total', labels)).toBe(1);
    expect(await sample('blueprint_events_handle_duration_seconds_count', labels)).toBe(4);
    expect(await sample('blueprint_events_handle_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(
      4,
    );
    expect(await sample('blueprint_events_pending', labels)).toBe(0);
    expect(text).toContain('# TYPE blueprint_events_handle_duration_seconds histogram');

    const handled = logs.filter((line) => line.msg === 'event handled');
    expect(handled.map((line) => [line.level, line.code, line.outcome])).toEqual([
      [30, 'OK', undefined],
      [30, 'OK', undefined],
      [40, 'NOT_FOUND', 'retry'],
      [50, 'NOT_FOUND', 'dead-lettered'],
    ]);
    expect(handled[0]).toMatchObject({
      component: 'events',
      event: 'order.placed',
      group: 'billing',
      attempt: 1,
      correlationId: 'cid-7',
      durationMs: expect.any(Number),
    });
    expect(handled[3]).toMatchObject({
      attempt: 2,
      err: { code: 'NOT_FOUND', message: 'order bad is gone' },
    });
    await bus.stop();
  });

  it('reads the consumer lag of each subscribed group on every scrape', async () => {
    const { bus, telemetry } = observedBus();
    const waiting: (() => void)[] = [];
    await bus.subscribe(OrderPlaced, () => new Promise<void>((resolve) => waiting.push(resolve)), {
      group: 'slow',
      concurrency: 1,
    });
    for (const orderId of ['a', 'b', 'c']) await bus.publish(OrderPlaced, { orderId });
    await vi.waitFor(() => expect(waiting).toHaveLength(1));
    const pending = () =>
      series(telemetry, 'blueprint_events_pending', { event: 'order.placed', group: 'slow' });
    expect(await pending()).toBe(3);
    waiting[0]!();
    await vi.waitFor(() => expect(waiting).toHaveLength(2));
    expect(await pending()).toBe(2);
    for (const release of waiting) release();
    await vi.waitFor(() => expect(waiting).toHaveLength(3));
    waiting[2]!();
    await vi.waitFor(async () => expect(await pending()).toBe(0));
    await bus.stop();
  });
});

describe('bus spans', () => {
  it('carries the trace from the publisher to the handler through the envelope headers', async () => {
    const tracing = startInMemoryTracing();
    try {
      const { bus, telemetry } = observedBus();
      const seen: Record<string, string>[] = [];
      await bus.subscribe(
        OrderPlaced,
        (_order, meta) => {
          seen.push({ ...meta.headers });
          telemetry.startSpan('charge card').end();
        },
        { group: 'billing' },
      );
      const request = telemetry.startSpan('POST /orders', { kind: 'server' });
      await request.run(() =>
        bus.publish(OrderPlaced, { orderId: 'o1' }, { headers: { 'x-correlation-id': 'c1' } }),
      );
      request.end();
      // An event published later from an outbox, outside any span, with the headers stored with it.
      await bus.publish(OrderPlaced, { orderId: 'o2' }, { headers: seen[0] ?? {} });
      await vi.waitFor(() => expect(tracing.spans().filter((s) => s.name === 'charge card')).toHaveLength(2));

      const spans = tracing.spans();
      const byName = (name: string) => spans.filter((s) => s.name === name);
      const root = byName('POST /orders')[0]!;
      const [publish, republish] = byName('order.placed publish');
      const [process, reprocess] = byName('order.placed process');
      const [charge] = byName('charge card');
      const traceId = root.spanContext().traceId;
      for (const span of [publish, republish, process, reprocess, charge]) {
        expect(span!.spanContext().traceId).toBe(traceId);
      }
      expect(publish!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(publish!.kind).toBe(3);
      expect(publish!.attributes).toMatchObject({
        'messaging.system': 'memory',
        'messaging.destination.name': 'order.placed',
        'messaging.operation.type': 'send',
        'messaging.message.id': expect.any(String),
      });
      expect(process!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
      expect(process!.kind).toBe(4);
      expect(process!.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': 'billing',
      });
      expect(charge!.parentSpanContext?.spanId).toBe(process!.spanContext().spanId);
      expect(seen[0]).toMatchObject({
        'x-correlation-id': 'c1',
        traceparent: expect.stringContaining(traceId),
      });
      // The stored headers carry the first publish's context: the republish continues that trace.
      expect(republish!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId);
      expect(reprocess!.parentSpanContext?.spanId).toBe(republish!.spanContext().spanId);
      await bus.stop();
    } finally {
      await tracing.stop();
    }
  });
});

describe('describeEvents', () => {
  it('lists each handled event with the services that handle it', () => {
    const Payments = defineService('payments', {});
    const Audit = defineService('audit', {});
    class PaymentsService {
      @OnEvent(OrderPlaced)
      async onOrderPlaced() {}
    }
    class AuditService {
      @OnEvent(OrderPlaced)
      async record() {}
    }
    const app = defineApp({
      name: 'shop',
      services: [service(Payments, PaymentsService), service(Audit, AuditService)],
    });
    expect(describeEvents(app)).toEqual({
      events: [{ event: 'order.placed', subscribers: ['payments', 'audit'] }],
    });
  });
});
