/**
 * The public HTTP API. It calls only contracts (products, orders), never implementations, so it reads
 * the same whether those services run in this process or elsewhere.
 */
import { randomUUID } from 'node:crypto';
import type { CallContext, ClientOf, ReadinessReport } from '@blueprint/core';
import { parseOrThrow } from '@blueprint/core';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Orders } from '../orders/contract.js';
import { PlaceOrder } from '../orders/contract.js';
import type { Products } from '../products/contract.js';
import { toHttpError } from './http-errors.js';

/** What the HTTP API needs. */
export interface HttpApiDependencies {
  readonly products: ClientOf<typeof Products>;
  readonly orders: ClientOf<typeof Orders>;
  readonly readiness: () => Promise<ReadinessReport>;
}

/** Largest accepted request body: 64 KiB. */
export const BODY_LIMIT = 64 * 1024;

const contextOf = (request: FastifyRequest): CallContext => ({
  headers: { 'x-correlation-id': String(request.id) },
});

/** Builds the Fastify app (not listening): `GET /products`, `GET /products/:id`, `POST /orders`, `GET /orders/:id`, health. */
export function buildHttpApi(deps: HttpApiDependencies): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    requestIdHeader: 'x-correlation-id',
    genReqId: () => randomUUID(),
  });

  // JSON only: anything else is answered 415 before a route runs.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    app.getDefaultJsonParser('error', 'error'),
  );

  app.setErrorHandler((error, _request, reply) => {
    const { status, body } = toHttpError(error);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-correlation-id', String(request.id));
    return payload;
  });

  app.get('/products', async (request) => deps.products.list(undefined, contextOf(request)));

  app.get<{ Params: { id: string } }>('/products/:id', async (request) =>
    deps.products.get({ id: request.params.id }, contextOf(request)),
  );

  app.post('/orders', async (request, reply) => {
    const input = parseOrThrow(PlaceOrder, request.body, 'POST /orders', 'input');
    const order = await deps.orders.place(input, contextOf(request));
    return reply.status(201).send(order);
  });

  app.get<{ Params: { id: string } }>('/orders/:id', async (request) =>
    deps.orders.get({ id: request.params.id }, contextOf(request)),
  );

  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply) => {
    const report = await deps.readiness();
    return reply
      .status(report.ok ? 200 : 503)
      .send({ status: report.ok ? 'ok' : 'fail', checks: report.checks });
  });

  return app;
}
