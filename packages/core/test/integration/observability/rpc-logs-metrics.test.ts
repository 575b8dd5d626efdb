import { createApp, isNotFoundError, type Topology } from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type PrometheusSample, parsePrometheusText } from '../../../src/cli/prometheus-text.js';
import { monolithTopology, Orders, obsApp, type Pair, startPair } from './obs-app.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

const served = (lines: readonly Record<string, unknown>[]) =>
  lines.filter((l) => l.msg === 'rpc call served');

/** Value of one series, 0 when absent. */
function seriesValue(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Record<string, string>,
): number {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  return found?.value ?? 0;
}

describe('logs of served calls', () => {
  it('writes one info line per served call with the correlation id, service, method, code and duration', async () => {
    pair = await startPair();
    const orders = pair.front.client(Orders);
    await orders.place({ sku: 'a' }, { headers: { 'x-correlation-id': 'cid-1' } });
    await orders.place({ sku: 'b' }, { headers: { 'x-correlation-id': 'cid-2' } });
    expect(served(pair.logs.back)).toEqual([
      expect.objectContaining({
        level: 30,
        app: 'obs',
        process: 'back',
        component: 'rpc',
        correlationId: 'cid-1',
        service: 'orders',
        method: 'place',
        code: 'OK',
        durationMs: expect.any(Number),
      }),
      expect.objectContaining({ correlationId: 'cid-2', service: 'orders', method: 'place', code: 'OK' }),
    ]);
    // The correlation id follows the request into every process it touched.
    expect(served(pair.logs.front).map((l) => [l.correlationId, l.service, l.method])).toEqual([
      ['cid-1', 'stock', 'level'],
      ['cid-2', 'stock', 'level'],
    ]);
  });

  it('logs failures with their code: 4xx at info, uncoded errors at error with the cause and stack', async () => {
    pair = await startPair();
    const orders = pair.front.client(Orders);
    const headers = { 'x-correlation-id': 'cid-err' };
    await expect(orders.place({ sku: 'missing' }, { headers })).rejects.toSatisfy(isNotFoundError);
    await expect(orders.place({ sku: 'broken' }, { headers })).rejects.toMatchObject({ code: 'INTERNAL' });
    const [missing, broken] = served(pair.logs.front);
    expect(missing).toMatchObject({
      level: 30,
      code: 'NOT_FOUND',
      correlationId: 'cid-err',
      err: { code: 'NOT_FOUND', message: 'sku missing does not exist' },
    });
    expect(broken).toMatchObject({
      level: 50,
      code: 'INTERNAL',
      err: { code: 'INTERNAL', message: 'stock table unreadable', cause: { message: 'disk full' } },
    });
    expect((broken!.err as { stack: string }).stack).toContain('obs-app.ts');
    // The caller's server relays the coded error it received: INTERNAL is a 500 there too.
    expect(served(pair.logs.back).map((l) => [l.code, l.level])).toEqual([
      ['NOT_FOUND', 30],
      ['INTERNAL', 50],
    ]);
  });

  it('respects LOG_LEVEL: at warn, successful calls write nothing and errors still do', async () => {
    pair = await startPair({ env: { LOG_LEVEL: 'warn' }, observability: { logLevel: 'debug' } });
    const orders = pair.front.client(Orders);
    await orders.place({ sku: 'a' });
    await expect(orders.place({ sku: 'broken' })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(served(pair.logs.front).map((l) => l.code)).toEqual(['INTERNAL']);
    expect(served(pair.logs.back).map((l) => l.code)).toEqual(['INTERNAL']);
  });

  it('logs requests refused before dispatch at warn, without running anything', async () => {
    pair = await startPair();
    const response = await fetch(`${pair.back.rpcUrl}/rpc/orders/place`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-correlation-id': 'cid-bad' },
      body: 'x',
    });
    expect(response.status).toBe(415);
    expect(pair.logs.back).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'rpc request refused',
        correlationId: 'cid-bad',
        service: 'orders',
        method: 'place',
        code: 'RPC_UNSUPPORTED_MEDIA_TYPE',
      }),
    ]);
  });
});

describe('metrics of RPC calls', () => {
  it('count calls by service, method and code on both sides, with one histogram sample per call', async () => {
    pair = await startPair();
    const orders = pair.front.client(Orders);
    for (let i = 0; i < 5; i++) await orders.place({ sku: `ok-${i}` });
    for (let i = 0; i < 2; i++) await orders.place({ sku: 'missing' }).catch(() => undefined);
    await orders.place({ sku: 42 as unknown as string }).catch(() => undefined);
    await fetch(`${pair.back.rpcUrl}/rpc/nope/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });

    const front = parsePrometheusText(await pair.front.metrics());
    const back = parsePrometheusText(await pair.back.metrics());
    const client = 'blueprint_rpc_client_requests_total';
    const server = 'blueprint_rpc_server_requests_total';
    const place = { service: 'orders', method: 'place' };
    const level = { service: 'stock', method: 'level' };

    expect(seriesValue(front, client, { ...place, code: 'OK', app: 'obs', process: 'front' })).toBe(5);
    expect(seriesValue(front, client, { ...place, code: 'NOT_FOUND' })).toBe(2);
    expect(seriesValue(front, client, { ...place, code: 'VALIDATION_FAILED' })).toBe(1);
    expect(seriesValue(front, 'blueprint_rpc_client_duration_seconds_count', place)).toBe(8);
    expect(seriesValue(front, 'blueprint_rpc_client_duration_seconds_bucket', { ...place, le: '+Inf' })).toBe(
      8,
    );

    expect(seriesValue(back, server, { ...place, code: 'OK', process: 'back' })).toBe(5);
    expect(seriesValue(back, server, { ...place, code: 'NOT_FOUND' })).toBe(2);
    expect(seriesValue(back, server, { ...place, code: 'VALIDATION_FAILED' })).toBe(1);
    expect(seriesValue(back, 'blueprint_rpc_server_duration_seconds_count', place)).toBe(8);
    expect(seriesValue(back, server, { service: '-', method: '-', code: 'RPC_UNKNOWN_METHOD' })).toBe(1);

    // Nested calls: back called stock in front 7 times (the invalid input never reached orders).
    expect(seriesValue(back, client, { ...level, code: 'OK' })).toBe(5);
    expect(seriesValue(back, client, { ...level, code: 'NOT_FOUND' })).toBe(2);
    expect(seriesValue(front, server, { ...level, code: 'OK' })).toBe(5);
    expect(seriesValue(front, 'blueprint_rpc_server_duration_seconds_count', level)).toBe(7);
  });

  it('serves GET /metrics on the admin listener, not on the RPC port, with the registry content type', async () => {
    pair = await startPair({ admin: { port: { back: 0 } } });
    await pair.front.client(Orders).place({ sku: 'a' });
    expect((await fetch(`${pair.back.rpcUrl}/metrics`)).status).toBe(404);
    const response = await fetch(`${pair.back.adminUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain(
      'blueprint_rpc_server_requests_total{service="orders",method="place",code="OK",app="obs",process="back"} 1',
    );
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(pair.back.telemetry.metrics.contentType).toBe(response.headers.get('content-type'));
  });

  it('serves nothing and records nothing when metrics are disabled', async () => {
    pair = await startPair({ observability: { metrics: { enabled: false } }, admin: { port: { back: 0 } } });
    await pair.front.client(Orders).place({ sku: 'a' });
    expect((await fetch(`${pair.back.adminUrl}/metrics`)).status).toBe(404);
    expect(await pair.front.metrics()).toBe('');
  });
});

describe('the admin listener', () => {
  it('serves /metrics and health for a process without RPC server, and closes with the app', async () => {
    const topology = monolithTopology({ admin: { port: { main: 0 } } });
    const app = await createApp(obsApp, { topology, logDestination: { write: () => undefined } });
    await app.start();
    await app.client(Orders).place({ sku: 'a' });
    const url = app.adminUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe(app.telemetry.metrics.contentType);
    expect(await metrics.text()).toContain('process_start_time_seconds');
    expect(await (await fetch(`${url}/health/ready`)).json()).toEqual({ status: 'ok', ok: true, checks: {} });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    await app.stop();
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it.each([
    {
      what: 'refuses ports for processes the topology does not have',
      sections: { admin: { port: { mian: 9464 } } },
      message:
        'topology.admin.port.mian: unknown process "mian"; did you mean "main"?; the topology has: main',
    },
    {
      what: 'names the new key of an old topology that sets observability.metrics.port',
      sections: { observability: { metrics: { port: 9464 } } },
      message: 'topology.observability.metrics.port: "port" was renamed: write "admin.port" instead',
    },
  ])('$what', async ({ sections, message }) => {
    await expect(createApp(obsApp, { topology: monolithTopology(sections) })).rejects.toThrow(message);
  });

  it('with admin.token, shows details and metrics only to a caller that sends it', async () => {
    const token = 'an-admin-token-that-is-long-enough-123';
    const topology = monolithTopology({ admin: { port: 0, token } });
    const app = await createApp(obsApp, { topology, logDestination: { write: () => undefined } });
    await app.start();
    const url = app.adminUrl!;
    expect(await (await fetch(`${url}/health/ready`)).json()).toEqual({ status: 'ok' });
    const refused = await fetch(`${url}/metrics`);
    expect(refused.status).toBe(401);
    expect(JSON.stringify(await refused.json())).not.toContain(token);
    const auth = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${url}/health/ready`, { headers: auth })).json()).toEqual({
      status: 'ok',
      ok: true,
      checks: {},
    });
    expect((await fetch(`${url}/metrics`, { headers: auth })).status).toBe(200);
    expect(JSON.stringify(app.topology)).not.toContain(token);
    await app.stop();
  });

  it('validates the section strictly', async () => {
    const topology = monolithTopology({
      observability: { logLevel: 'loud', tracing: { enabled: true, sampler: 'x' } },
    });
    const error = (await createApp(obsApp, { topology }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(
      'topology.observability.logLevel: unknown log level; allowed: trace, debug, info, warn, error, fatal, silent',
    );
    expect(error.message).toContain('topology.observability.tracing.sampler: unknown key "sampler"');
    const parsed = (
      await createApp(obsApp, {
        topology: monolithTopology(),
      })
    ).topology as Topology;
    expect(parsed.observability).toBeUndefined();
  });
});
