/**
 * What an operator sees of the shop in both topologies: the counters and histograms of `/metrics` after
 * a scripted scenario, one trace for one order across the four processes of the split topology (each
 * process exports its spans to a file through a test-only OpenTelemetry SDK), and the correlation id of
 * a request in the log lines of every process it touched.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../../test/harness/index.js';
import { baseline, sampleValue, scrape } from './support/prometheus.js';
import {
  type ShopUnderTest,
  type SplitProcess,
  type SplitShop,
  startMonolith,
  startSplit,
} from './support/shop-under-test.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const OTEL_BOOTSTRAP = path.join(here, 'support/otel-file-exporter.mjs');

/** A log line as pino writes it. */
type LogLine = Record<string, unknown> & { msg?: string; correlationId?: string; component?: string };

function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // Not a log line (a partial write): ignored.
    }
  }
  return lines;
}

/**
 * The scenario whose counts the metrics tests check: 3 orders, 2 reads of one product and a read of an
 * unknown product (404).
 */
async function runScenario(shop: ShopUnderTest): Promise<string[]> {
  const orders: string[] = [];
  for (let i = 0; i < 3; i++) {
    const placed = await shop.request('POST', '/orders', { productId: 'p-keyboard', quantity: 1 });
    expect(placed.status).toBe(201);
    orders.push(placed.body.id);
  }
  for (let i = 0; i < 2; i++) expect((await shop.request('GET', '/products/p-mouse')).status).toBe(200);
  expect((await shop.request('GET', '/products/nope')).status).toBe(404);
  return orders;
}

const http = (method: string, route: string, status: number) => ({ method, route, status: String(status) });
const HTTP_COUNT = 'http_server_request_duration_seconds_count';

describe('observability: monolith', () => {
  let shop: Awaited<ReturnType<typeof startMonolith>>;

  beforeAll(async () => {
    shop = await startMonolith();
  }, 60_000);

  afterAll(async () => {
    await shop?.stop();
  });

  it('counts the scenario in the gateway’s /metrics: requests, events and cache, no RPC', async () => {
    const metrics = await baseline(`${shop.adminUrl}/metrics`);
    await runScenario(shop);
    let delta = await metrics.since();
    await waitFor(
      async () => {
        delta = await metrics.since();
        return (
          delta('blueprint_events_handled_total', {
            event: 'payment.succeeded',
            group: 'orders',
            code: 'OK',
          }) === 3
        );
      },
      { timeout: 15_000, message: 'the 3 payments to be handled by orders' },
    );

    expect(delta(HTTP_COUNT, http('POST', '/orders', 201))).toBe(3);
    expect(delta(HTTP_COUNT, http('GET', '/products/:id', 200))).toBe(2);
    expect(delta(HTTP_COUNT, http('GET', '/products/:id', 404))).toBe(1);
    const placed = { event: 'order.placed' };
    expect(delta('blueprint_events_published_total', { ...placed, code: 'OK' })).toBe(3);
    expect(delta('blueprint_events_handled_total', { ...placed, group: 'payments', code: 'OK' })).toBe(3);
    expect(delta('blueprint_events_handle_duration_seconds_count', { ...placed, group: 'payments' })).toBe(3);
    expect(delta('blueprint_events_published_total', { event: 'payment.succeeded', code: 'OK' })).toBe(3);
    const get = { service: 'products', method: 'get' };
    expect(delta('blueprint_cache_requests_total', get)).toBe(6);
    expect(delta('blueprint_cache_requests_total', { ...get, result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(delta('blueprint_cache_loads_total', { ...get, code: 'NOT_FOUND' })).toBe(1);
    // In-process calls are counted as local calls, never as RPC between processes.
    expect(
      delta('blueprint_rpc_local_requests_total', { service: 'products', method: 'get', code: 'OK' }),
    ).toBe(5);
    expect(delta.after.some((s) => /^blueprint_rpc_(client|server)_/.test(s.name))).toBe(false);
    expect(sampleValue(delta.after, 'process_start_time_seconds')).toBeGreaterThan(0);
  });

  it('counts requests no route matched under route "-", never under their path', async () => {
    const metrics = await baseline(`${shop.adminUrl}/metrics`);
    expect((await shop.request('GET', '/no/such/route')).status).toBe(404);
    const delta = await metrics.since();
    expect(delta(HTTP_COUNT, http('GET', '-', 404))).toBe(1);
    expect(delta.after.some((s) => s.labels.route === '/no/such/route')).toBe(false);
  });

  it('logs one line per request and per handled event, all with the request’s correlation id', async () => {
    const correlationId = `mono-${randomUUID()}`;
    const placed = await shop.request(
      'POST',
      '/orders',
      { productId: 'p-keyboard', quantity: 1 },
      { 'x-correlation-id': correlationId },
    );
    expect(placed.status).toBe(201);
    expect(placed.headers.get('x-correlation-id')).toBe(correlationId);
    const mine = () => logLines(shop.output()).filter((line) => line.correlationId === correlationId);
    await waitFor(() => mine().some((line) => line.msg === 'event handled' && line.group === 'orders'), {
      timeout: 15_000,
      message: `the payment of the order to be handled; log lines:\n${shop.output().slice(-3_000)}`,
    });
    expect(mine().find((line) => line.component === 'http')).toMatchObject({
      level: 30,
      process: 'main',
      msg: 'http request',
      method: 'POST',
      route: '/orders',
      status: 201,
      durationMs: expect.any(Number),
    });
    const handled = mine().filter((line) => line.msg === 'event handled');
    expect(handled.map((line) => `${line.event} → ${line.group}`).sort()).toEqual([
      'order.placed → payments',
      'payment.succeeded → orders',
    ]);
    for (const line of handled) expect(line).toMatchObject({ level: 30, component: 'events', code: 'OK' });
  });
});

describe('observability: split', () => {
  let shop: SplitShop;
  let spansDir: string;
  const spanFile = (name: SplitProcess) => path.join(spansDir, `${name}.jsonl`);

  beforeAll(async () => {
    spansDir = await mkdtemp(path.join(tmpdir(), 'blueprint-spans-'));
    shop = await startSplit(inject('redisUrl'), {
      imports: [OTEL_BOOTSTRAP],
      env: (name) => ({ BLUEPRINT_TEST_SPANS_FILE: spanFile(name) }),
    });
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
    if (spansDir !== undefined) await rm(spansDir, { recursive: true, force: true });
  }, 30_000);

  it('counts the scenario on both sides of every call: gateway, orders, products, payments', async () => {
    const gateway = await baseline(shop.metricsUrl('gateway'));
    const orders = await baseline(shop.metricsUrl('orders'));
    const products = await baseline(shop.metricsUrls('products'));
    const payments = await baseline(shop.metricsUrl('payments'));
    await runScenario(shop);
    let inOrders = await orders.since();
    await waitFor(
      async () => {
        inOrders = await orders.since();
        const paid = { event: 'payment.succeeded', group: 'orders', code: 'OK' };
        return inOrders('blueprint_events_handled_total', paid) === 3;
      },
      { timeout: 20_000, message: 'the 3 payments to be handled by orders' },
    );
    const inGateway = await gateway.since();
    const inProducts = await products.since();
    const inPayments = await payments.since();
    const call = (service: string, method: string, code?: string) =>
      code === undefined ? { service, method } : { service, method, code };

    expect(inGateway(HTTP_COUNT, http('POST', '/orders', 201))).toBe(3);
    expect(inGateway(HTTP_COUNT, http('GET', '/products/:id', 200))).toBe(2);
    expect(inGateway(HTTP_COUNT, http('GET', '/products/:id', 404))).toBe(1);
    expect(inGateway('blueprint_rpc_client_requests_total', call('orders', 'place', 'OK'))).toBe(3);
    expect(inGateway('blueprint_rpc_client_requests_total', call('products', 'get', 'OK'))).toBe(2);
    expect(inGateway('blueprint_rpc_client_requests_total', call('products', 'get', 'NOT_FOUND'))).toBe(1);
    expect(inGateway('blueprint_rpc_client_duration_seconds_count', call('orders', 'place'))).toBe(3);
    expect(sampleValue(inGateway.after, 'blueprint_breaker_state', { service: 'products' })).toBe(0);

    expect(inOrders('blueprint_rpc_server_requests_total', call('orders', 'place', 'OK'))).toBe(3);
    expect(inOrders('blueprint_rpc_client_requests_total', call('products', 'get', 'OK'))).toBe(3);
    expect(inOrders('blueprint_rpc_client_requests_total', call('products', 'reserve', 'OK'))).toBe(3);
    expect(inOrders('blueprint_events_published_total', { event: 'order.placed', code: 'OK' })).toBe(3);

    expect(inProducts('blueprint_rpc_server_requests_total', call('products', 'get', 'OK'))).toBe(5);
    expect(inProducts('blueprint_rpc_server_requests_total', call('products', 'get', 'NOT_FOUND'))).toBe(1);
    expect(inProducts('blueprint_rpc_server_requests_total', call('products', 'reserve', 'OK'))).toBe(3);
    expect(inProducts('blueprint_rpc_server_duration_seconds_count', call('products', 'get'))).toBe(6);
    expect(inProducts('blueprint_cache_requests_total', call('products', 'get'))).toBe(6);
    expect(
      inProducts('blueprint_cache_requests_total', { ...call('products', 'get'), result: 'hit' }),
    ).toBeGreaterThanOrEqual(1);
    expect(inProducts('blueprint_cache_loads_total', call('products', 'get', 'NOT_FOUND'))).toBe(1);

    const placed = { event: 'order.placed', group: 'payments' };
    expect(inPayments('blueprint_events_handled_total', { ...placed, code: 'OK' })).toBe(3);
    expect(inPayments('blueprint_events_handle_duration_seconds_count', placed)).toBe(3);
    expect(inPayments('blueprint_events_published_total', { event: 'payment.succeeded', code: 'OK' })).toBe(
      3,
    );
    await waitFor(
      async () =>
        sampleValue(await scrape(shop.metricsUrl('payments')), 'blueprint_events_pending', placed) === 0,
      {
        timeout: 10_000,
        message: 'payments to have no order.placed pending',
      },
    );
  });

  it('follows one POST /orders in one trace: gateway → orders → products, and the order.placed handler in payments', async () => {
    const correlationId = `trace-${randomUUID()}`;
    const placed = await shop.request(
      'POST',
      '/orders',
      { productId: 'p-mouse', quantity: 1 },
      { 'x-correlation-id': correlationId },
    );
    expect(placed.status).toBe(201);

    let traceId: string | undefined;
    await waitFor(
      () => {
        const line = logLines(shop.output('gateway')).find((l) => l.correlationId === correlationId);
        traceId = line?.traceId as string | undefined;
        return traceId !== undefined;
      },
      { timeout: 10_000, message: 'the gateway’s log line of the request, with its trace id' },
    );

    type Span = {
      name: string;
      kind: string;
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      attributes: Record<string, unknown>;
      process: SplitProcess;
    };
    const processes: SplitProcess[] = ['gateway', 'orders', 'products', 'payments'];
    const readSpans = async (): Promise<Span[]> => {
      const all: Span[] = [];
      for (const process of processes) {
        const text = await readFile(spanFile(process), 'utf8').catch(() => '');
        for (const line of text.split('\n')) {
          if (line === '') continue;
          const span = JSON.parse(line) as Omit<Span, 'process'>;
          if (span.traceId === traceId) all.push({ ...span, process });
        }
      }
      return all;
    };
    let spans: Span[] = [];
    const find = (process: SplitProcess, name: string, kind: string) =>
      spans.find((s) => s.process === process && s.name === name && s.kind === kind);
    await waitFor(
      async () => {
        spans = await readSpans();
        return find('orders', 'payment.succeeded process', 'consumer') !== undefined;
      },
      { timeout: 20_000, message: 'the whole trace to be exported' },
    );

    const request = find('gateway', 'POST /orders', 'server');
    const placeCall = find('gateway', 'orders/place', 'client');
    const place = find('orders', 'orders/place', 'server');
    const getCall = find('orders', 'products/get', 'client');
    const reserveCall = find('orders', 'products/reserve', 'client');
    const get = find('products', 'products/get', 'server');
    const reserve = find('products', 'products/reserve', 'server');
    const publish = find('orders', 'order.placed publish', 'producer');
    const charge = find('payments', 'order.placed process', 'consumer');
    const announce = find('payments', 'payment.succeeded publish', 'producer');
    const settle = find('orders', 'payment.succeeded process', 'consumer');
    const childOf = (child: Span | undefined, parent: Span | undefined) => {
      expect(child, 'span').toBeDefined();
      expect(parent, 'parent span').toBeDefined();
      expect(child!.parentSpanId).toBe(parent!.spanId);
    };

    expect(request?.parentSpanId).toBeUndefined();
    expect(request?.attributes).toMatchObject({ 'http.route': '/orders', 'http.response.status_code': 201 });
    childOf(placeCall, request);
    childOf(place, placeCall);
    childOf(getCall, place);
    childOf(reserveCall, place);
    childOf(get, getCall);
    childOf(reserve, reserveCall);
    childOf(publish, place);
    childOf(charge, publish);
    childOf(announce, charge);
    childOf(settle, announce);
    expect(charge?.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': 'order.placed',
      'messaging.consumer.group.name': 'payments',
    });
    expect(new Set(spans.map((s) => s.process))).toEqual(new Set(processes));
  });

  it('writes the correlation id of a request in the log lines of every process it touched', async () => {
    const correlationId = `logs-${randomUUID()}`;
    const placed = await shop.request(
      'POST',
      '/orders',
      { productId: 'p-keyboard', quantity: 1 },
      { 'x-correlation-id': correlationId },
    );
    expect(placed.status).toBe(201);
    const linesOf = (process: SplitProcess) =>
      logLines(shop.output(process)).filter((line) => line.correlationId === correlationId);
    await waitFor(() => linesOf('orders').some((line) => line.msg === 'event handled'), {
      timeout: 20_000,
      message: 'orders to log the handled payment',
    });
    // Log lines reach stdout in chunks (at the latest 100 ms after they were written): wait for each process.
    for (const name of ['gateway', 'products', 'payments'] as const) {
      await waitFor(() => linesOf(name).length > 0, {
        timeout: 5_000,
        message: `${name} to log the request`,
      });
    }
    await waitFor(() => linesOf('products').length >= 2, {
      timeout: 5_000,
      message: 'products to log both calls',
    });

    expect(linesOf('gateway')).toEqual([
      expect.objectContaining({ process: 'gateway', msg: 'http request', method: 'POST', status: 201 }),
    ]);
    expect(linesOf('orders')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'rpc call served', service: 'orders', method: 'place', code: 'OK' }),
        expect.objectContaining({ msg: 'event handled', event: 'payment.succeeded', group: 'orders' }),
      ]),
    );
    expect(
      linesOf('products')
        .map((line) => `${line.msg} ${line.service}.${line.method}`)
        .sort(),
    ).toEqual(['rpc call served products.get', 'rpc call served products.reserve']);
    expect(linesOf('payments')).toEqual([
      expect.objectContaining({ msg: 'event handled', event: 'order.placed', group: 'payments', code: 'OK' }),
    ]);
  });
});
