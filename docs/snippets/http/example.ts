import assert from 'node:assert/strict';
import { Orders, Products, startShop } from './shop.js';

const app = await startShop();
process.env.PORT = '0'; // the test listens on a free port

// #region example
import { defineRoutes, route } from '@blueprint/http';
import { blueprintFastify, blueprintFastifyOptions } from '@blueprint/http/fastify';
import Fastify from 'fastify';

const routes = defineRoutes([
  route(Products, 'list', 'GET /products'),
  route(Products, 'get', 'GET /products/:id'),
  route(Orders, 'place', 'POST /orders', { status: 201 }),
]);
const server = Fastify(blueprintFastifyOptions());
await server.register(blueprintFastify, { routes, clients: app }); // app: a started createApp(...)
await server.listen({ port: Number(process.env.PORT ?? 3000) }); // GET /openapi.json too
// #endregion example

const { port } = server.server.address() as { port: number };
const base = `http://127.0.0.1:${port}`;
assert.deepEqual(await (await fetch(`${base}/products/p1`)).json(), { id: 'p1', name: 'keyboard' });
const placed = await fetch(`${base}/orders`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ productId: 'p1', quantity: 2 }),
});
assert.equal(placed.status, 201);
assert.equal(((await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string }).openapi, '3.1.0');
await server.close();
await app.stop();
