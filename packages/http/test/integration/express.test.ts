/**
 * The Express 5 adapter against the shared test table, mounted in an Express app over a real socket.
 */
import type { AddressInfo } from 'node:net';
import type { BlueprintApp } from '@blueprint/core';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blueprintRouter } from '../../src/express/index.js';
import {
  describeEdgeConformance,
  EDGE_OPTIONS,
  type EdgeTestRequest,
  edgeRoutes,
  startEdgeApp,
} from '../../src/testing/index.js';
import { fetchEdge } from './support.js';

describeEdgeConformance('express', async ({ app, routes, options }) => {
  const server = express();
  const api = blueprintRouter({ routes, clients: app, ...options });
  server.use(api);
  server.use(api.notFound);
  const listening = server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => listening.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  return {
    baseUrl,
    request: fetchEdge(baseUrl),
    close: () =>
      new Promise<void>((resolve) => {
        listening.closeAllConnections();
        listening.close(() => resolve());
      }),
  };
});

describe('express adapter in an existing app', () => {
  let app: BlueprintApp;
  let baseUrl: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ app } = await startEdgeApp());
    const server = express();
    // Parsers and routes of the existing app, mounted before the router: the router still refuses what
    // it would refuse reading the body itself.
    server.use(express.json());
    server.use(express.urlencoded({ extended: false }));
    server.get('/legacy', (_request, response) => {
      response.json({ legacy: true });
    });
    const api = blueprintRouter({ routes: edgeRoutes, clients: app, ...EDGE_OPTIONS });
    server.use(api);
    server.use('/v2', api);
    // The same path as a route of the router, under a method the router does not serve.
    server.delete('/items', (_request, response) => {
      response.status(202).json({ purged: true });
    });
    server.use(api.notFound);
    const listening = server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    close = () =>
      new Promise<void>((resolve) => {
        listening.closeAllConnections();
        listening.close(() => resolve());
      });
  });
  afterAll(async () => {
    await close?.();
    await app?.stop();
  });

  const send = (method: string, path: string, init: EdgeTestRequest = {}) =>
    fetchEdge(baseUrl)(method, path, init);
  const jsonBody = (value: unknown): EdgeTestRequest => ({
    headers: { 'content-type': 'application/json' },
    body: typeof value === 'string' ? value : JSON.stringify(value),
  });

  it('leaves the app’s own routes alone, beside the router’s', async () => {
    expect(JSON.parse((await send('GET', '/legacy')).text)).toEqual({ legacy: true });
    const purged = await send('DELETE', '/items');
    expect(purged.status).toBe(202);
    expect(JSON.parse(purged.text)).toEqual({ purged: true });
    const item = await send('GET', '/items/a1');
    expect(JSON.parse(item.text)).toMatchObject({ id: 'a1' });
  });

  it('serves the routes under a mount path', async () => {
    const item = await send('GET', '/v2/items/a1?unused=1');
    expect(item.status).toBe(200);
    expect(JSON.parse(item.text)).toMatchObject({ id: 'a1', name: 'anvil' });
    const search = await send('GET', '/v2/items?limit=2&tags=a&tags=b');
    expect(JSON.parse(search.text)).toEqual({ limit: 2, tags: ['a', 'b'] });
  });

  it('takes a body express.json() already read, held to the same rules', async () => {
    const created = await send('POST', '/items', jsonBody({ name: 'saw', price: 7 }));
    expect(created.status).toBe(201);
    const proto = await send('POST', '/items', jsonBody('{"name":"x","price":1,"__proto__":{"p":1}}'));
    expect(proto.status).toBe(400);
    expect(JSON.parse(proto.text).error.code).toBe('MALFORMED_JSON');
    expect(({} as { p?: unknown }).p).toBeUndefined();
    const deep = await send('POST', '/items', jsonBody(`${'['.repeat(200)}${']'.repeat(200)}`));
    expect(JSON.parse(deep.text).error.code).toBe('MALFORMED_JSON');
  });

  it('refuses a form body express.urlencoded() already read with 415', async () => {
    const form = await send('POST', '/items', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x&price=1',
    });
    expect(form.status).toBe(415);
    expect(JSON.parse(form.text).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
