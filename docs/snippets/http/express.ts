import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { defineRoutes, route } from '@blueprint/http';
import { Products, startShop } from './shop.js';

const app = await startShop();
const routes = defineRoutes([route(Products, 'get', 'GET /products/:id')]);
const legacyHandler = (_request: express.Request, response: express.Response) => {
  response.json({ legacy: true });
};

// #region express
import { blueprintRouter } from '@blueprint/http/express';
import express from 'express';

const api = blueprintRouter({ routes, clients: app });
const server = express();
server.use(api); // the routes of the table
server.post('/legacy', legacyHandler); // the app's own routes, untouched
server.use(api.notFound); // last: 404 / 405 with the error body
// #endregion express

const listening: Server = await new Promise((resolve) => {
  const started = server.listen(0, '127.0.0.1', () => resolve(started));
});
const base = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
assert.equal(((await (await fetch(`${base}/products/p1`)).json()) as { name: string }).name, 'keyboard');
assert.deepEqual(await (await fetch(`${base}/legacy`, { method: 'POST' })).json(), { legacy: true });
assert.equal((await fetch(`${base}/nowhere`)).status, 404);
await new Promise((resolve) => listening.close(resolve));
await app.stop();
