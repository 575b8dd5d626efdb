import { defineRoutes, route } from '@blueprint/http';
import { shop as app, Products, topology } from './shop.js';

const routes = defineRoutes([route(Products, 'get', 'GET /products/:id')]);

// #region lambda
import { createApp } from '@blueprint/core';
import { blueprintLambda } from '@blueprint/http/lambda';

const started = createApp(app, { topology }).then(async (running) => {
  await running.start();
  return running;
});
export const handler = blueprintLambda({ routes, clients: started, basePath: '/prod' });

// #endregion lambda

import assert from 'node:assert/strict';

const answer = await handler(
  { rawPath: '/prod/products/p1', requestContext: { http: { method: 'GET' } } },
  { getRemainingTimeInMillis: () => 3000 },
);
assert.equal(answer.statusCode, 200);
assert.deepEqual(JSON.parse(answer.body), { id: 'p1', name: 'keyboard' });
await (await started).stop();
