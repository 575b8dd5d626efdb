/**
 * The HTTP API on Fastify: `GET /hello/:name`, `GET /health/live`, `GET /health/ready`. Errors are
 * JSON: `{ "error": { "code", "message", "details" } }`.
 */
import { type ClientOf, isBlueprintError, type ReadinessReport } from '@blueprint/core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Greeter } from './greeter-contract.js';

/** What the HTTP API needs. */
export interface HttpApiDependencies {
  /** The greeter client: local or remote, as the topology decides. */
  readonly greeter: ClientOf<typeof Greeter>;
  /** This process's readiness. */
  readonly readiness: () => Promise<ReadinessReport>;
  /** This process's name, for `/health/live`. */
  readonly processName: string;
}

/** The body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: unknown };
}

function errorBody(code: string, message: string, details: unknown = null): ErrorBody {
  return { error: { code, message, details: details ?? null } };
}

/** Builds the Fastify instance (not listening yet). */
export function buildHttpApi(deps: HttpApiDependencies): FastifyInstance {
  const server = Fastify({ logger: false });

  server.get<{ Params: { name: string } }>('/hello/:name', async (request) =>
    deps.greeter.hello({ name: request.params.name }),
  );
  server.get('/health/live', async () => ({ status: 'ok', process: deps.processName, pid: process.pid }));
  server.get('/health/ready', async (_request, reply) => {
    const report = await deps.readiness();
    return reply.status(report.ok ? 200 : 503).send({ status: report.ok ? 'ready' : 'not-ready', ...report });
  });

  server.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route for ${request.method} ${request.url}`));
  });
  server.setErrorHandler((error, _request, reply) => {
    if (isBlueprintError(error)) {
      const status = error.status >= 400 && error.status < 600 ? error.status : 500;
      return reply.status(status).send(errorBody(error.code, error.message, error.details));
    }
    // Fastify's own 4xx errors (a malformed request): pass them on with their code.
    const { statusCode, code, message } = error as { statusCode?: number; code?: string; message?: string };
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      return reply.status(statusCode).send(errorBody(code ?? 'BAD_REQUEST', message ?? 'bad request'));
    }
    console.error(error);
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  return server;
}
