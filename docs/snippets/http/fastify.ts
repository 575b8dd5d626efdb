import assert from 'node:assert/strict';
import { defineRoutes, route } from '@blueprint/http';
import { blueprintFastify, blueprintFastifyOptions } from '@blueprint/http/fastify';
import Fastify from 'fastify';
import { Products, startShop } from './shop.js';

const app = await startShop();
const routes = defineRoutes([route(Products, 'get', 'GET /products/:id')]);

// #region fastify
const server = Fastify({ ...blueprintFastifyOptions(), logger: false });
await server.register(blueprintFastify, { routes, clients: app, openapi: { docs: '/docs' } });
server.get('/health/live', async () => ({ status: 'ok' })); // your routes beside them
// #endregion fastify

assert.equal((await server.inject({ method: 'GET', url: '/products/p1' })).json().name, 'keyboard');
assert.deepEqual((await server.inject({ method: 'GET', url: '/health/live' })).json(), { status: 'ok' });
assert.equal((await server.inject({ method: 'GET', url: '/docs' })).statusCode, 200);
assert.equal((await server.inject({ method: 'GET', url: '/nowhere' })).json().error.code, 'NOT_FOUND');
await server.close();
await app.stop();
