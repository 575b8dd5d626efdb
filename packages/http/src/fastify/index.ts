/**
 * @blueprint/http/fastify — the routes of a route table as a Fastify plugin, the default adapter.
 *
 * The plugin observes every request of the instance (routes of your own too: `/health/*`), gives every
 * answer an `x-correlation-id` and `x-content-type-options: nosniff`, answers
 * unknown routes (404), wrong methods (405) and refused bodies (413, 415, 400) with the one error body,
 * and mounts each route with a JSON-only body parser. {@link blueprintFastifyOptions} gives the server
 * options the plugin cannot set itself (Fastify reads them when the instance is created).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { parseJsonBody, payloadTooLarge, unsupportedMediaType } from '../body.js';
import { answerClientError } from '../client-error.js';
import { type DocsSite, docsSiteOf, type ServedRoutes } from '../docs.js';
import {
  type Answer,
  createEdge,
  type Edge,
  type EdgeOptions,
  type EdgeRoute,
  type Exchange,
  NO_ROUTE,
} from '../edge.js';
import { MalformedJsonError, MalformedUrlError, UriTooLongError } from '../errors.js';
import type { QueryValues } from '../input.js';

/** Options of {@link blueprintFastify}. */
export interface BlueprintFastifyOptions extends EdgeOptions, ServedRoutes {}

const EXCHANGE = Symbol.for('blueprint.http.exchange');
const EDGE = Symbol.for('blueprint.http.edge');

type Carrier = { [EXCHANGE]: Exchange | null };

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** Fastify's own refusals, as the edge's coded errors. */
function edgeErrorOf(error: unknown, edge: Edge): unknown {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType((error as { contentType?: string }).contentType);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge(edge.bodyLimit);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MalformedJsonError((error as Error).message, { cause: error });
    case 'FST_ERR_BAD_URL':
      return new MalformedUrlError('the request path is not valid percent-encoding', { cause: error });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new UriTooLongError('a path parameter is longer than the router accepts', { cause: error });
    default:
      return error;
  }
}

function exchangeOf(edge: Edge, request: FastifyRequest): Exchange {
  const carrier = request as unknown as Carrier;
  // A hook that ran before the plugin's own (a rate limit) failed the request: begin it here.
  const exchange =
    carrier[EXCHANGE] ??
    edge.begin(request.method, request.routeOptions.url ?? NO_ROUTE, pathOf(request.url), request.headers);
  carrier[EXCHANGE] = exchange;
  return exchange;
}

/** A route's answer: the `onRequest` hook already set the correlation id and `nosniff`, so only the rest. */
function sendRouted(reply: FastifyReply, answer: Answer): FastifyReply {
  void reply.code(answer.status);
  const headers = answer.headers;
  for (const name in headers) {
    if (name !== 'x-correlation-id' && name !== 'x-content-type-options')
      void reply.header(name, headers[name]);
  }
  return reply.send(answer.body);
}

function routeHandler(edge: Edge, route: EdgeRoute) {
  // Not async: the answer is sent from the edge's promise, with no promise of Fastify's around it.
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const exchange = exchangeOf(edge, request);
    const response = reply.raw;
    // 'close' fires once per response: `on` spares the wrapper `once` makes per request.
    response.on('close', () => {
      if (!response.writableFinished) exchange.abort();
    });
    edge
      .run(exchange, route, {
        params: request.params as Record<string, string>,
        query: request.query as QueryValues,
        body: request.body,
      })
      .then(
        (answer) => sendRouted(reply, answer),
        (error: unknown) => reply.send(error),
      );
  };
}

function mountDocs(app: FastifyInstance, site: DocsSite): void {
  for (const path of site.paths) {
    app.get(path, (_request, reply) => {
      const answer = site.answer(path)!;
      void reply.code(answer.status).headers(answer.headers).send(answer.body);
    });
  }
}

async function plugin(app: FastifyInstance, options: BlueprintFastifyOptions): Promise<void> {
  const edge = createEdge(options.routes, options);
  app.decorate(EDGE, edge);
  // Declared up front, so every request object keeps the shape Fastify built it with (a property added
  // later changes its hidden class on each request and slows every access to it).
  app.decorateRequest(EXCHANGE, null);

  app.addHook('onRequest', (request, reply, done) => {
    const exchange = edge.begin(
      request.method,
      request.routeOptions.url ?? NO_ROUTE,
      pathOf(request.url),
      request.headers,
    );
    (request as unknown as Carrier)[EXCHANGE] = exchange;
    void reply.header('x-correlation-id', exchange.correlationId).header('x-content-type-options', 'nosniff');
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const exchange = (request as unknown as Carrier)[EXCHANGE];
    if (exchange) edge.end(exchange, reply.statusCode);
    done();
  });
  app.setErrorHandler((error, request, reply) => {
    void send(reply, edge.fail(exchangeOf(edge, request), edgeErrorOf(error, edge)));
  });
  app.setNotFoundHandler((request, reply) => {
    void send(reply, edge.unmatched(exchangeOf(edge, request), request.method, pathOf(request.url)));
  });

  const site = docsSiteOf(options);
  if (site !== undefined) mountDocs(app, site);

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    for (const route of edge.routes) {
      scope.route({
        method: route.httpMethod,
        url: route.path,
        bodyLimit: route.bodyLimit ?? edge.bodyLimit,
        handler: routeHandler(edge, route),
      });
    }
  });
}

/**
 * The Fastify plugin: register it once per route table.
 *
 * @example
 * const server = Fastify(blueprintFastifyOptions());
 * await server.register(blueprintFastify, { routes, clients: app });
 * await server.listen({ port: 3000 });
 */
export const blueprintFastify = fp(plugin, { fastify: '5.x', name: '@blueprint/http' });

/** Options of {@link blueprintFastifyOptions}. */
export interface FastifyServerDefaults {
  /**
   * Longest path parameter the router matches. Default 65536: above any URL Node's HTTP server accepts
   * (`--max-http-header-size`, 16 KiB by default), so every parameter reaches the input schema, whose own
   * bounds refuse it with `VALIDATION_FAILED` as on Express and Lambda. A parameter over a lower limit
   * answers 414 `URI_TOO_LONG`.
   */
  readonly maxParamLength?: number;
}

/**
 * The server options the plugin needs from `Fastify(...)`: a router that lets long path parameters
 * through to the input schema (a 10,000-character id gets the schema's 400, as on Express and Lambda, not
 * the router's refusal), Fastify's own framework errors (a malformed URL) answered with the error body,
 * and requests Node's parser refuses (oversized headers, timeouts) answered with it too (see
 * `answerClientError`).
 * Spread your own options after them.
 */
export function blueprintFastifyOptions(defaults: FastifyServerDefaults = {}): FastifyServerOptions {
  return {
    routerOptions: { maxParamLength: defaults.maxParamLength ?? 65_536 },
    clientErrorHandler: answerClientError,
    frameworkErrors(error, request, reply) {
      const edge = (request.server as unknown as { [EDGE]?: Edge })[EDGE];
      if (edge === undefined) {
        void (reply as FastifyReply)
          .code(400)
          .header('content-type', 'application/json; charset=utf-8')
          .send(JSON.stringify({ error: { code: 'MALFORMED_URL', message: error.message } }));
        return;
      }
      const exchange = exchangeOf(edge, request);
      void send(reply, edge.fail(exchange, edgeErrorOf(error, edge)));
      edge.end(exchange, 400);
    },
  };
}
