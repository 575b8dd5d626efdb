/**
 * The public HTTP API: the shop's route table on Fastify, through `@blueprint/http/fastify` (routes,
 * request mapping, error answers, request logs, metrics and spans), plus what is the shop's own: the
 * server's limits, an optional rate limit, and the bare status of the health probes (load balancers ask
 * them). The details of readiness and `/metrics` are on the process's admin listener, not on this port.
 */
import type { ClientOf, ReadinessReport, Telemetry } from '@blueprint/core';
import { blueprintFastify, blueprintFastifyOptions } from '@blueprint/http/fastify';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Orders } from '../orders/contract.js';
import type { Products } from '../products/contract.js';
import {
  DEFAULT_HTTP_LIMITS,
  type HttpLimits,
  nodeServerOptions,
  type RateLimit,
  RateLimitedError,
} from './http-limits.js';
import { shopRoutes } from './routes.js';

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
 * `GET /orders/:id`, `GET /openapi.json`, `GET /health/live`, `GET /health/ready`.
 */
export async function buildHttpApi(deps: HttpApiDependencies): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    ...blueprintFastifyOptions({ maxParamLength: MAX_PARAM_LENGTH }),
    logger: false,
    http: nodeServerOptions(limits),
    // Fastify sets these on the server after creating it: give them here too.
    keepAliveTimeout: limits.keepAliveTimeout,
    requestTimeout: limits.requestTimeout,
  });
  app.server.maxConnections = limits.maxConnections;

  if (deps.rateLimit !== undefined) {
    const { max, windowMs } = deps.rateLimit;
    // Before the routes, so it applies to them.
    await app.register(rateLimit, {
      max,
      timeWindow: windowMs,
      // Probes come from load balancers, often many per second: never limited.
      allowList: (request) => request.url.startsWith('/health/'),
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(
          `over the rate limit of ${context.max} requests per ${context.after}; retry in ${Math.ceil(context.ttl / 1000)} s`,
          { details: { limit: context.max, retryAfterMs: context.ttl } },
        ),
    });
  }

  await app.register(blueprintFastify, {
    routes: shopRoutes,
    clients: { products: deps.products, orders: deps.orders },
    telemetry: deps.telemetry,
    bodyLimit: BODY_LIMIT,
    // A deadline passed downstream is "retry later" for the shop's clients, like the other dependency failures.
    errors: { statuses: { TIMEOUT: 503 } },
  });

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const report = await deps.readiness();
    return reply.status(report.ok ? 200 : 503).send({ status: report.ok ? 'ok' : 'fail' });
  });

  return app;
}
