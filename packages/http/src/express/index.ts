/**
 * @blueprint/http/express — the routes of a route table as an Express 5 router, to mount in an existing
 * Express app and move it to contracts one route at a time.
 *
 * A request the router has no route for goes on to the rest of your app (`next()`), so old routes keep
 * working beside the new ones; mount `router.notFound` last to answer what nothing took with the error
 * body (404, or 405 when the path is one of the router's routes under another method). The router reads
 * request bodies itself (JSON only, the body limit, the safe parser): mount it before `express.json()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { decodeBody, isJsonContentType, payloadTooLarge, unsupportedMediaType } from '../body.js';
import { docsSite, type OpenApiServeOptions } from '../docs.js';
import {
  type Answer,
  createEdge,
  type Edge,
  type EdgeOptions,
  type EdgeRoute,
  type Exchange,
  NO_ROUTE,
} from '../edge.js';
import { MalformedUrlError } from '../errors.js';
import type { QueryValues } from '../input.js';
import type { Routes } from '../routes.js';

/** Options of {@link blueprintRouter}. */
export interface BlueprintRouterOptions extends EdgeOptions {
  /** The route table. */
  readonly routes: Routes;
  /** Where to serve the OpenAPI document and the docs page; `false` for neither. Default: `/openapi.json`, no page. */
  readonly openapi?: OpenApiServeOptions | false;
}

/** The router, and the handler that answers what no route of the app took. */
export interface BlueprintRouter extends Router {
  /** Mount last: 405 for a path of this router under another method, else 404, with the error body. */
  readonly notFound: RequestHandler;
}

function write(response: ServerResponse, answer: Answer, head = false): void {
  if (response.headersSent) return;
  response.writeHead(answer.status, answer.headers);
  response.end(head ? undefined : answer.body);
}

/** Ends the exchange's observation when the answer is written, or aborts its call when the client leaves first. */
function observe(edge: Edge, exchange: Exchange, response: ServerResponse): void {
  response.once('close', () => {
    if (!response.writableFinished) exchange.abort();
    edge.end(exchange, response.writableFinished ? response.statusCode : 499);
  });
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads a request body as the other adapters do: 415, 413 (declared or streamed), then the safe parser. */
async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const consumed = request as IncomingMessage & { body?: unknown; _body?: boolean };
  if (consumed._body === true || request.readableEnded) return consumed.body;
  const contentType = request.headers['content-type'];
  if (!hasBody(request)) return decodeBody(undefined, contentType, limit);
  if (!isJsonContentType(contentType)) throw unsupportedMediaType(contentType);
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return decodeBody(Buffer.concat(chunks), contentType, limit);
}

function tooLargeClose(response: ServerResponse, request: IncomingMessage, answer: Answer): void {
  // The rest of the body is not read: say so, and let it drain while the answer goes out.
  response.setHeader('connection', 'close');
  request.resume();
  write(response, answer);
}

function routeHandler(edge: Edge, route: EdgeRoute): RequestHandler {
  const limit = route.bodyLimit ?? edge.bodyLimit;
  return async (request: Request, response: Response) => {
    const exchange = edge.begin(request.method, route.path, request.path, request.headers);
    observe(edge, exchange, response);
    let body: unknown;
    if (route.withBody) {
      try {
        body = await readBody(request, limit);
      } catch (error) {
        const answer = edge.fail(exchange, error);
        if (answer.status === 413) tooLargeClose(response, request, answer);
        else write(response, answer);
        return;
      }
    }
    const answer = await edge.run(exchange, route, {
      params: request.params as Record<string, string>,
      query: request.query as QueryValues,
      body,
    });
    write(response, answer, request.method === 'HEAD');
  };
}

/**
 * The Express 5 router of a route table.
 *
 * @example
 * const api = blueprintRouter({ routes, clients: blueprint });
 * app.use(api);            // before express.json()
 * app.get('/legacy', ...); // untouched
 * app.use(api.notFound);   // last
 */
export function blueprintRouter(options: BlueprintRouterOptions): BlueprintRouter {
  const edge = createEdge(options.routes, options);
  const router = Router() as Router & { notFound?: RequestHandler };
  if (options.openapi !== false) {
    const site = docsSite(options.routes, options.openapi);
    for (const path of site.paths) {
      router.get(path, (request, response) => {
        const exchange = edge.begin(request.method, path, path, request.headers);
        observe(edge, exchange, response);
        const answer = site.answer(path)!;
        response.writeHead(answer.status, { ...answer.headers, 'x-correlation-id': exchange.correlationId });
        response.end(answer.body);
      });
    }
  }
  for (const route of edge.routes) {
    const method = route.httpMethod.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    router[method](route.path, routeHandler(edge, route));
  }
  // Express refuses a parameter that is not valid percent-encoding before a handler runs.
  router.use((error: unknown, request: Request, response: Response, next: NextFunction) => {
    if ((error as { status?: unknown }).status !== 400 || response.headersSent) return next(error);
    const exchange = edge.begin(request.method, NO_ROUTE, request.path, request.headers);
    observe(edge, exchange, response);
    write(
      response,
      edge.fail(
        exchange,
        new MalformedUrlError('the request path is not valid percent-encoding', { cause: error }),
      ),
    );
  });
  router.notFound = (request: Request, response: Response) => {
    const exchange = edge.begin(request.method, NO_ROUTE, request.path, request.headers);
    observe(edge, exchange, response);
    write(response, edge.unmatched(exchange, request.method, request.path));
  };
  return router as BlueprintRouter;
}
