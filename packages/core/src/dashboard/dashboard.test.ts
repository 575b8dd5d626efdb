import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpSplit } from '../../../../test/harness/topologies.js';
import { type BlueprintApp, createApp } from '../app/create-app.js';
import { defineApp } from '../app.js';
import { inject, injectable } from '../container.js';
import { type ClientOf, defineService, type ImplementationOf } from '../contract.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { installSpanRecorder } from '../observability/span-recorder.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { service } from '../service.js';
import { Secret } from '../topology/secret.js';
import { createCollector } from './collector.js';
import { type DashboardServer, startDashboardServer } from './server.js';

const Back = defineService('back', {
  echo: { input: z.object({ text: z.string() }), output: z.object({ text: z.string() }) },
});
const Front = defineService('front', {
  hello: { input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) },
});

@injectable()
class BackService implements ImplementationOf<typeof Back> {
  async echo({ text }: { text: string }) {
    return { text };
  }
}

@injectable()
class FrontService implements ImplementationOf<typeof Front> {
  constructor(@inject(Back.token) private readonly back: ClientOf<typeof Back>) {}
  async hello({ name }: { name: string }) {
    return this.back.echo({ text: `hello ${name}` });
  }
}

/** Dead letters of a stand-in `events` section: the dashboard only routes to it. */
const letters = new Map([['back:thing.done:e1', { id: 'back:thing.done:e1', payload: { n: 1 } }]]);
const replayed: string[] = [];

const deadLetters = definePlugin({
  name: 'letters',
  setup(ctx) {
    if (!ctx.process.services.includes('back')) return;
    const idOf = (input: unknown) => {
      const id = (input as { id?: unknown }).id;
      if (typeof id !== 'string') throw new ValidationError('id must be a string');
      if (!letters.has(id)) throw new NotFoundError(`no dead letter "${id}"`);
      return id;
    };
    ctx.addDashboardSection('events', {
      read: () => ({ deadLetters: [...letters.values()] }),
      actions: {
        async replay(input) {
          const id = idOf(input);
          letters.delete(id);
          replayed.push(id);
          return { replayed: id };
        },
        async discard(input) {
          letters.delete(idOf(input));
          return {};
        },
      },
    });
  },
});

const app = defineApp({
  name: 'pair',
  services: [service(Back, BackService), service(Front, FrontService)],
  plugins: [deadLetters],
});

const TOKEN = 'a-long-enough-admin-token-for-tests-0123456789';
const topology = httpSplit(
  {
    back: { services: ['back'], address: 'http://127.0.0.1:0' },
    front: { services: ['front'] },
  },
  { admin: { port: { back: 0, front: 0 }, token: TOKEN } },
);

let back: BlueprintApp;
let front: BlueprintApp;
let dashboard: DashboardServer;
const quiet = { write: () => undefined };
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  const spans = installSpanRecorder('pair');
  back = await createApp(app, { topology, process: 'back', spans, logDestination: quiet });
  await back.start();
  front = await createApp(app, {
    topology,
    process: 'front',
    addresses: { back: back.rpcUrl! },
    spans,
    logDestination: quiet,
  });
  await front.start();
  const collector = createCollector({
    app,
    topology: front.topology,
    token: new Secret(TOKEN),
    targets: () => [
      { process: 'back', replica: 0, adminUrl: back.adminUrl! },
      { process: 'front', replica: 0, adminUrl: front.adminUrl! },
    ],
  });
  dashboard = await startDashboardServer({ collector, port: 0 });
});

afterAll(async () => {
  await dashboard?.close();
  await front?.stop();
  await back?.stop();
});

const get = async (path: string) => {
  const response = await fetch(new URL(path, dashboard.url));
  return { status: response.status, body: (await response.json()) as any };
};
const post = async (path: string, body: string, contentType = 'application/json') => {
  const response = await fetch(new URL(path, dashboard.url), {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
};

describe('the admin listener (one process)', () => {
  it('answers /dashboard/* only with the admin token', async () => {
    const bare = await fetch(`${back.adminUrl}/dashboard/process`);
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as any).error.code).toBe('UNAUTHENTICATED');
    const described = await fetch(`${back.adminUrl}/dashboard/process`, { headers: auth });
    expect(await described.json()).toMatchObject({
      app: 'pair',
      process: 'back',
      replica: 0,
      spans: true,
      sections: ['events'],
    });
  });

  it('refuses an unknown section or action and a malformed or oversized body, with codes', async () => {
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${back.adminUrl}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      });
      return { status: response.status, code: ((await response.json()) as any).error?.code };
    };
    expect(await call('/dashboard/sections/nope')).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await call('/dashboard/sections/events/explode', { method: 'POST', body: '{}' })).toEqual({
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(await call('/dashboard/sections/events/replay', { method: 'POST', body: '{"id":' })).toEqual({
      status: 400,
      code: 'CODEC_INVALID',
    });
    const big = JSON.stringify({ id: 'x'.repeat(20_000) });
    expect(await call('/dashboard/sections/events/replay', { method: 'POST', body: big })).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await call('/dashboard/spans?after=-1')).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(letters.size).toBe(1);
  });
});

describe('the dashboard', () => {
  it('serves its page, which loads nothing from elsewhere', async () => {
    const response = await fetch(dashboard.url);
    const html = await response.text();
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('<title>Blueprint dashboard</title>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('refuses requests addressed to another host name', async () => {
    const url = new URL(dashboard.url);
    const { request } = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({
        host: '127.0.0.1',
        port: url.port,
        path: '/api/architecture',
        headers: { host: 'evil.test' },
      })
        .on('response', (response) => {
          response.resume();
          resolve(response.statusCode);
        })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(421);
  });

  it('shows the call edge with its rate and latency, and each process ready', async () => {
    for (let i = 0; i < 4; i++) await front.client(Front).hello({ name: `n${i}` });
    const { status, body } = await get('api/architecture');
    expect(status).toBe(200);
    const edge = body.calls.find((c: any) => c.from === 'front' && c.to === 'back');
    expect(edge).toMatchObject({ remote: true, stats: { calls: 4, errors: 0, errorRate: 0 } });
    expect(edge.stats.rate).toBeGreaterThan(0);
    expect(edge.stats.p50Ms).toBeGreaterThan(0);
    expect(edge.stats.p99Ms).toBeGreaterThanOrEqual(edge.stats.p50Ms);
    expect(body.processes.map((p: any) => [p.name, p.replicas[0]?.ready])).toEqual([
      ['back', true],
      ['front', true],
    ]);
  });

  it('joins the spans of a call by trace id and filters traces', async () => {
    await front.client(Front).hello({ name: 'traced' }, { headers: { 'x-correlation-id': 'corr-42' } });
    const { body: list } = await get('api/traces?correlationId=corr-42');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ correlationId: 'corr-42', spans: expect.any(Number) });
    const { body: spans } = await get(`api/traces/${list[0].traceId}`);
    const names = spans.map((s: any) => `${s.kind} ${s.name}`);
    expect(names).toEqual(expect.arrayContaining(['client back/echo', 'server back/echo']));
    expect(new Set(spans.map((s: any) => s.traceId))).toEqual(new Set([list[0].traceId]));
    expect((await get('api/traces?minMs=600000')).body).toEqual([]);
    expect((await get('api/traces/not-a-trace')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await get(`api/traces/${'0'.repeat(32)}`)).status).toBe(404);
    expect((await get('api/traces?status=teapot')).status).toBe(400);
  });

  it('refuses malformed replays and unknown ids with codes, and changes nothing', async () => {
    const before = (await get('api/events')).body;
    const refusals = [
      await post('api/events/dead-letters/replay', '{"id": 5}'),
      await post('api/events/dead-letters/replay', '{"id": "back:thing.done:e1", "extra": 1}'),
      await post('api/events/dead-letters/replay', '{"id": "x"', 'application/json'),
      await post('api/events/dead-letters/replay', '{"id": "back:thing.done:e1"}', 'text/plain'),
      await post('api/events/dead-letters/discard', '{"id": "back:thing.done:unknown"}'),
      await post('api/events/dead-letters/explode', '{"id": "back:thing.done:e1"}'),
    ].map(({ status, body }) => [status, body.error?.code]);
    expect(refusals).toEqual([
      [400, 'VALIDATION_FAILED'],
      [400, 'VALIDATION_FAILED'],
      [400, 'CODEC_INVALID'],
      [400, 'VALIDATION_FAILED'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
    ]);
    expect((await get('api/events')).body).toEqual(before);
    expect(replayed).toEqual([]);
  });

  it('replays a dead letter in the process that owns its group', async () => {
    const { status, body } = await post('api/events/dead-letters/replay', '{"id": "back:thing.done:e1"}');
    expect([status, body]).toEqual([200, { replayed: 'back:thing.done:e1' }]);
    expect(replayed).toEqual(['back:thing.done:e1']);
    const sections = (await get('api/events')).body;
    expect(sections).toEqual([{ process: 'back', replica: 0, data: { deadLetters: [] } }]);
  });
});

describe('"admin": { "dashboard": true }', () => {
  it('is refused on a shared interface without a token', async () => {
    const open = { ...topology, admin: { port: 0, host: '0.0.0.0', dashboard: true } };
    await expect(createApp(app, { topology: open, process: 'back' })).rejects.toMatchObject({
      code: 'TOPOLOGY_INVALID',
      message: expect.stringContaining('without a credential'),
    });
  });
});

/** A port free now: listen on 0, read it, close. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the dashboard on the admin listeners (blueprint start)', () => {
  it('serves the page and its API under /dashboard/ behind the admin token, for every process', async () => {
    const ports = { back: await freePort(), front: await freePort() };
    const served = {
      ...topology,
      admin: { port: ports, token: TOKEN, dashboard: true },
    };
    const b = await createApp(app, { topology: served, process: 'back', logDestination: quiet });
    await b.start();
    const f = await createApp(app, {
      topology: served,
      process: 'front',
      addresses: { back: b.rpcUrl! },
      logDestination: quiet,
    });
    await f.start();
    try {
      const bare = await fetch(`${f.adminUrl}/dashboard/`);
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toContain('Basic');
      const wrong = await fetch(`${f.adminUrl}/dashboard/`, {
        headers: { authorization: `Basic ${Buffer.from('me:not-the-token').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
      const basic = { authorization: `Basic ${Buffer.from(`me:${TOKEN}`).toString('base64')}` };
      const page = await fetch(`${f.adminUrl}/dashboard/`, { headers: basic });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Blueprint dashboard</title>');
      const redirect = await fetch(`${f.adminUrl}/dashboard`, { headers: auth, redirect: 'manual' });
      expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/dashboard/']);
      await f.client(Front).hello({ name: 'start' });
      const architecture = (await (
        await fetch(`${f.adminUrl}/dashboard/api/architecture`, { headers: basic })
      ).json()) as any;
      expect(architecture.processes.map((p: any) => [p.name, p.replicas[0]?.ready])).toEqual([
        ['back', true],
        ['front', true],
      ]);
      const edge = architecture.calls.find((c: any) => c.from === 'front');
      expect(edge.stats.calls).toBeGreaterThan(0);
      // Basic is for the dashboard's browser only: /metrics still wants the bearer token.
      expect((await fetch(`${f.adminUrl}/metrics`, { headers: basic })).status).toBe(401);
    } finally {
      await f.stop();
      await b.stop();
    }
  });
});
