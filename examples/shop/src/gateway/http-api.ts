/**
 * The public HTTP API. It calls only contracts (products, orders), never implementations, so it reads
 * the same whether those services run in this process or elsewhere.
 */
import { randomUUID } from 'node:crypto';
import type { ClientOf, ReadinessReport, Telemetry } from '@blueprint/core';
import { parseOrThrow } from '@blueprint/core/plugin';
import { isValidCorrelationId } from '@blueprint/core/rpc';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Orders } from '../orders/contract.js';
import { PlaceOrder } from '../orders/contract.js';
import type { Products } from '../products/contract.js';
import { answerClientError, RateLimitedError, toHttpError } from './http-errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits, nodeServerOptions, type RateLimit } from './http-limits.js';
import { observeHttp } from './http-observability.js';

/** What the HTTP API needs. */
export interface HttpApiDependencies {
  readonly products: ClientOf<typeof Products>;
  readonly orders: ClientOf<typeof Orders>;
  readonly readiness: () => Promise<ReadinessReport>;
  /** The process's logs, metrics and traces: request log lines and durations, request spans. */
  readonly telemetry: Telemetry;
  /** Timeouts and bounds of the server. Default: {@link DEFAULT_HTTP_LIMITS}. */
  readonly limits?: HttpLimits;
  /** A rate limit per client address. Default: none. */
  readonly rateLimit?: RateLimit | undefined;
}

/** Longest path parameter (a product or order id) accepted; longer answers 414 `URI_TOO_LONG`. */
export const MAX_PARAM_LENGTH = 100;

/** Largest accepted request body: 64 KiB. */
export const BODY_LIMIT = 64 * 1024;

/**
 * Builds the Fastify app (not listening): `GET /products`, `GET /products/:id`, `POST /orders`,
 * `GET /orders/:id`, and the bare status of the health probes (load balancers ask them). The details of
 * readiness and `/metrics` are on the process's admin listener, not on this public port.
 *
 * Every answer, errors included, has the shape `{ error: { code, message } }` and
 * `x-content-type-options: nosniff`; a caller's `x-correlation-id` is kept when it is at most 128
 * characters of `[A-Za-z0-9._:-]`, and replaced by a new UUID otherwise.
 */
export async function buildHttpApi(deps: HttpApiDependencies): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    // The id is checked before it is used: Fastify would take the header as sent.
    requestIdHeader: false,
    genReqId: (request) => {
      const sent = request.headers['x-correlation-id'];
      return isValidCorrelationId(sent) ? sent : randomUUID();
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    http: nodeServerOptions(limits),
    // Fastify sets these on the server after creating it: give them here too.
    keepAliveTimeout: limits.keepAliveTimeout,
    requestTimeout: limits.requestTimeout,
    clientErrorHandler: answerClientError,
    // A path Fastify cannot route (a parameter over maxParamLength, bad percent-encoding) still gets our shape.
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = toHttpError(error);
      void (reply as FastifyReply).status(status).header('x-content-type-options', 'nosniff').send(body);
    },
  });
  app.server.maxConnections = limits.maxConnections;

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
    reply.header('x-content-type-options', 'nosniff');
    return payload;
  });

  if (deps.rateLimit !== undefined) {
    const { max, windowMs } = deps.rateLimit;
    await app.register(rateLimit, {
      max,
      timeWindow: windowMs,
      // Probes come from load balancers, often many per second: never limited.
      allowList: (request) => request.url.startsWith('/health/'),
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(
          `over the rate limit of ${context.max} requests per ${context.after}; retry in ${Math.ceil(context.ttl / 1000)} s`,
          { limit: context.max, retryAfterMs: context.ttl },
        ),
    });
  }

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

  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_request, reply) => {
    const report = await deps.readiness();
    return reply.status(report.ok ? 200 : 503).send({ status: report.ok ? 'ok' : 'fail' });
  });

  return app;
}
