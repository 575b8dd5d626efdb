import assert from 'node:assert/strict';
import { createApp, defineApp } from '@blueprint/core';
import Fastify from 'fastify';

const app = await createApp(defineApp({ name: 'shop', services: [] }), {
  topology: { app: 'src/app.ts', processes: { gateway: { services: [] } } },
});
await app.start();
const fastify = Fastify();
// #region route
fastify.get('/metrics', async (_request, reply) =>
  reply.type(app.telemetry.metrics.contentType).send(await app.metrics()),
);
// #endregion route
const response = await fastify.inject({ method: 'GET', url: '/metrics' });
assert.equal(response.statusCode, 200);
assert.match(String(response.headers['content-type']), /^text\/plain/);
assert.match(response.body, /^process_cpu_user_seconds_total /m);
await fastify.close();
await app.stop();
