/**
 * @blueprint/http/lambda — the routes of a route table as an AWS Lambda handler for API Gateway HTTP API
 * (payload format 2.0) and Lambda Function URL events, which share one shape.
 *
 * The handler routes with the route table itself (no API Gateway route per method is needed: one
 * `$default` route, or a Function URL, sends everything to it), answers what no route takes with 404/405,
 * and caps each request's deadline by the invocation's remaining time. The app is created at module load
 * and started on the first event, so a warm invocation does no start-up work.
 */
import { decodeBody } from '../body.js';
import { docsSiteOf, type ServedRoutes } from '../docs.js';
import {
  type Answer,
  type ClientSource,
  createEdge,
  type Edge,
  type EdgeOptions,
  NO_ROUTE,
} from '../edge.js';
import { LambdaEventError } from '../errors.js';
import { queryOf } from '../input.js';

/**
 * The event of API Gateway HTTP API (payload format 2.0) and of a Lambda Function URL: the fields the
 * handler reads. `APIGatewayProxyEventV2` of `@types/aws-lambda` is assignable to it.
 */
export interface LambdaHttpEvent {
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string } };
}

/** The answer: `APIGatewayProxyStructuredResultV2` of `@types/aws-lambda`. */
export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** The invocation context the handler reads (`Context` of `@types/aws-lambda` is assignable to it). */
export interface LambdaInvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Options of {@link blueprintLambda}. */
export interface BlueprintLambdaOptions extends Omit<EdgeOptions, 'clients'>, ServedRoutes {
  /**
   * The clients, or a promise of them: typically the app being created and started at module load
   * (`createApp(...).then(async (app) => { await app.start(); return app; })`).
   */
  readonly clients: ClientSource | PromiseLike<ClientSource>;
  /** A prefix of `rawPath` the routes do not have, e.g. an API Gateway stage (`/prod`). Default: none. */
  readonly basePath?: string;
  /** Time kept back from the invocation's remaining time for writing the answer, in ms. Default 50. */
  readonly margin?: number;
}

/** The Lambda handler. */
export type LambdaHttpHandler = (
  event: LambdaHttpEvent,
  context: LambdaInvocationContext,
) => Promise<LambdaHttpResult>;

function result(answer: Answer, head: boolean): LambdaHttpResult {
  return {
    statusCode: answer.status,
    headers: { ...answer.headers },
    body: head ? '' : (answer.body ?? ''),
    isBase64Encoded: false,
  };
}

/** Refuses an event of another shape with a message that says which shapes the handler takes. */
function checkEvent(event: LambdaHttpEvent): void {
  const candidate = event as Partial<LambdaHttpEvent> | null | undefined;
  const method = candidate?.requestContext?.http?.method;
  if (typeof candidate?.rawPath === 'string' && typeof method === 'string') return;
  const version = (candidate as { version?: unknown } | null | undefined)?.version;
  throw new LambdaEventError(
    `the handler takes API Gateway HTTP API (payload format 2.0) and Lambda Function URL events; got an event${
      typeof version === 'string' ? ` of version ${JSON.stringify(version.slice(0, 10))}` : ''
    } without rawPath and requestContext.http.method (for a REST API, choose payload format 2.0 or an HTTP API)`,
  );
}

/** The request path the routes see: `rawPath` without the `basePath` prefix. */
function pathOf(event: LambdaHttpEvent, base: string | undefined): string {
  const raw = event.rawPath;
  if (base === undefined || base === '' || !raw.startsWith(base)) return raw;
  const rest = raw.slice(base.length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : raw;
}

async function handle(
  edge: Edge,
  options: BlueprintLambdaOptions,
  event: LambdaHttpEvent,
  context: LambdaInvocationContext,
): Promise<LambdaHttpResult> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = pathOf(event, options.basePath);
  const headers = event.headers ?? {};
  const found = edge.matcher.match(method, path);
  const exchange = edge.begin(method, found.kind === 'found' ? found.entry.path : NO_ROUTE, path, headers);
  let answer: Answer;
  if (found.kind !== 'found') answer = edge.unmatched(exchange, method, path);
  else {
    const route = found.entry;
    let body: unknown;
    let refused: Answer | undefined;
    if (route.withBody) {
      try {
        const raw =
          event.body === undefined
            ? undefined
            : event.isBase64Encoded
              ? Buffer.from(event.body, 'base64')
              : event.body;
        body = decodeBody(raw, headers['content-type'], route.bodyLimit ?? edge.bodyLimit);
      } catch (error) {
        refused = edge.fail(exchange, error);
      }
    }
    const cap = Date.now() + context.getRemainingTimeInMillis() - (options.margin ?? 50);
    answer =
      refused ??
      (await edge.run(
        exchange,
        route,
        { params: found.params, query: queryOf(event.rawQueryString), body },
        cap,
      ));
  }
  edge.end(exchange, answer.status);
  return result(answer, method === 'HEAD');
}

/**
 * The Lambda handler of a route table.
 *
 * @example
 * const started = createApp(app, { topology }).then(async (a) => (await a.start(), a));
 * export const handler = blueprintLambda({ routes, clients: started });
 */
export function blueprintLambda(options: BlueprintLambdaOptions): LambdaHttpHandler {
  let ready: Promise<Edge> | undefined;
  const site = docsSiteOf(options);
  return async (event, context) => {
    checkEvent(event);
    const method = event.requestContext.http.method.toUpperCase();
    const answer =
      method === 'GET' || method === 'HEAD' ? site?.answer(pathOf(event, options.basePath)) : undefined;
    if (answer !== undefined) {
      const binary = typeof answer.body !== 'string';
      return {
        statusCode: answer.status,
        headers: { ...answer.headers },
        body:
          method === 'HEAD'
            ? ''
            : binary
              ? (answer.body as Buffer).toString('base64')
              : (answer.body as string),
        isBase64Encoded: binary,
      };
    }
    ready ??= Promise.resolve(options.clients).then(
      (clients) => createEdge(options.routes, { ...options, clients }),
      (error: unknown) => {
        ready = undefined; // the invocation fails; the next one awaits `clients` again
        throw error;
      },
    );
    return handle(await ready, options, event, context);
  };
}
