/**
 * The public HTTP API. It calls only contracts (products, orders), never implementations, so it reads
 * the same whether those services run in this process or elsewhere.
 */
import { randomUUID } from 'node:crypto';
import type { ClientOf, ReadinessReport, Telemetry } from '@blueprint/core';
import { parseOrThrow } from '@blueprint/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Orders } from '../orders/contract.js';
import { PlaceOrder } from '../orders/contract.js';
import type { Products } from '../products/contract.js';
import { toHttpError } from './http-errors.js';
import { observeHttp } from './http-observability.js';

/** What the HTTP API needs. */
export interface HttpApiDependencies {
  readonly products: ClientOf<typeof Products>;
  readonly orders: ClientOf<typeof Orders>;
  readonly readiness: () => Promise<ReadinessReport>;
  /** The process's logs, metrics and traces: request log lines, `/metrics`, request spans. */
  readonly telemetry: Telemetry;
}

/** Largest accepted request body: 64 KiB. */
export const BODY_LIMIT = 64 * 1024;

/**
 * Builds the Fastify app (not listening): `GET /products`, `GET /products/:id`, `POST /orders`,
 * `GET /orders/:id`, health and `GET /metrics`.
 */
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

  const { contextOf, traced, failed } = observeHttp(app, deps.telemetry);

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toHttpError(error);
    failed(request, error, body.error.code);
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    failed(request, undefined, 'NOT_FOUND');
    void reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-correlation-id', String(request.id));
    return payload;
  });

  app.get(
    '/products',
    traced(async (request) => deps.products.list(undefined, contextOf(request))),
  );

  app.get(
    '/products/:id',
    traced(async (request) =>
      deps.products.get({ id: (request.params as { id: string }).id }, contextOf(request)),
    ),
  );

  app.post(
    '/orders',
    traced(async (request, reply) => {
      const input = parseOrThrow(PlaceOrder, request.body, 'POST /orders', 'input');
      const order = await deps.orders.place(input, contextOf(request));
      return reply.status(201).send(order);
    }),
  );

  app.get(
    '/orders/:id',
    traced(async (request) =>
      deps.orders.get({ id: (request.params as { id: string }).id }, contextOf(request)),
    ),
  );

  app.get('/metrics', async (_request, reply) => {
    const { metrics } = deps.telemetry;
    if (!metrics.enabled) {
      return reply.status(404).send({
        error: { code: 'NOT_FOUND', message: 'metrics are disabled (observability.metrics.enabled)' },
      });
    }
    return reply.type(metrics.contentType).send(await metrics.text());
  });

  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply) => {
    const report = await deps.readiness();
    return reply
      .status(report.ok ? 200 : 503)
      .send({ status: report.ok ? 'ok' : 'fail', checks: report.checks });
  });

  return app;
}
