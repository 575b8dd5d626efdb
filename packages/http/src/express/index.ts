/**
 * @blueprint/http/express — the routes of a route table as Express middleware, to mount in an existing
 * Express 5 app and move it to contracts one route at a time.
 *
 * The middleware routes with the route table itself and imports nothing from `express`: it is a plain
 * `(request, response, next)` function over Node's `IncomingMessage` and `ServerResponse`, so this entry
 * loads whether or not `express` is installed, and the app's own Express copy (whatever its version) stays
 * the only one. A request it has no route for goes on to the rest of your app (`next()`), so old routes
 * keep working beside the new ones; mount `notFound` last to answer what nothing took with the error body
 * (404, or 405 when the path is one of the routes under another method). It reads request bodies itself
 * (JSON only, the body limit, the safe parser); a body `express.json()` already read is checked by the same
 * rules, so the router may be mounted before or after it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeBody, isJsonContentType, payloadTooLarge, unsupportedMediaType } from '../body.js';
import { docsSiteOf, type ServedRoutes } from '../docs.js';
import {
  type Answer,
  createEdge,
  type Edge,
  type EdgeOptions,
  type EdgeRoute,
  type Exchange,
  NO_ROUTE,
} from '../edge.js';
import { queryOf } from '../input.js';

/** Options of {@link blueprintRouter}. */
export interface BlueprintRouterOptions extends EdgeOptions, ServedRoutes {}

/** Express's `next`: called with nothing to pass the request on, or with an error. */
export type NextFunction = (error?: unknown) => void;

/** A middleware over Node's request and response, as `app.use` takes it. */
export type NodeMiddleware = (request: IncomingMessage, response: ServerResponse, next: NextFunction) => void;

/** The middleware of a route table, and the handler that answers what no route of the app took. */
export interface BlueprintRouter extends NodeMiddleware {
  /** Mount last: 405 for a path of these routes under another method, else 404, with the error body. */
  readonly notFound: NodeMiddleware;
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

/**
 * A body a parser mounted before the router (`express.json()`) already read: held to the same rules as
 * one the router reads. Its content type must be JSON, and it goes through the safe parser again, so a
 * `__proto__` key or a nesting JSON.parse let through is refused here too.
 */
function alreadyParsed(request: IncomingMessage & { body?: unknown }, limit: number): unknown {
  const contentType = request.headers['content-type'];
  if (!isJsonContentType(contentType)) throw unsupportedMediaType(contentType);
  const text = JSON.stringify(request.body);
  return text === undefined ? undefined : decodeBody(text, contentType, limit);
}

/** Reads a request body as the other adapters do: 415, 413 (declared or streamed), then the safe parser. */
async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const consumed = request as IncomingMessage & { body?: unknown; _body?: boolean };
  if (consumed._body === true || request.readableEnded) return alreadyParsed(consumed, limit);
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

/** The path (relative to where the middleware is mounted) and the raw query of a request. */
function splitUrl(url: string | undefined): { path: string; rawQuery: string } {
  const value = url ?? '/';
  const mark = value.indexOf('?');
  return mark === -1
    ? { path: value, rawQuery: '' }
    : { path: value.slice(0, mark), rawQuery: value.slice(mark + 1) };
}

async function serve(
  edge: Edge,
  route: EdgeRoute,
  params: Record<string, string>,
  rawQuery: string,
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const method = request.method ?? 'GET';
  const exchange = edge.begin(method, route.path, path, request.headers);
  observe(edge, exchange, response);
  let body: unknown;
  if (route.withBody) {
    try {
      body = await readBody(request, route.bodyLimit ?? edge.bodyLimit);
    } catch (error) {
      const answer = edge.fail(exchange, error);
      if (answer.status === 413) tooLargeClose(response, request, answer);
      else write(response, answer);
      return;
    }
  }
  const answer = await edge.run(exchange, route, { params, query: queryOf(rawQuery), body });
  write(response, answer, method === 'HEAD');
}

/**
 * The Express middleware of a route table.
 *
 * @example
 * const api = blueprintRouter({ routes, clients: blueprint });
 * app.use(api);
 * app.get('/legacy', ...); // untouched
 * app.use(api.notFound);   // last
 */
export function blueprintRouter(options: BlueprintRouterOptions): BlueprintRouter {
  const edge = createEdge(options.routes, options);
  const site = docsSiteOf(options);

  const middleware: NodeMiddleware = (request, response, next) => {
    const method = request.method ?? 'GET';
    const { path, rawQuery } = splitUrl(request.url);
    const page = method === 'GET' || method === 'HEAD' ? site?.answer(path) : undefined;
    if (page !== undefined) {
      const exchange = edge.begin(method, path, path, request.headers);
      observe(edge, exchange, response);
      response.writeHead(page.status, { ...page.headers, 'x-correlation-id': exchange.correlationId });
      response.end(method === 'HEAD' ? undefined : page.body);
      return;
    }
    const found = edge.matcher.match(method, path);
    if (found.kind !== 'found') return next();
    serve(edge, found.entry, found.params, rawQuery, path, request, response).catch(next);
  };

  const notFound: NodeMiddleware = (request, response) => {
    const method = request.method ?? 'GET';
    const { path } = splitUrl(request.url);
    const exchange = edge.begin(method, NO_ROUTE, path, request.headers);
    observe(edge, exchange, response);
    write(response, edge.unmatched(exchange, method, path));
  };

  return Object.assign(middleware, { notFound });
}
