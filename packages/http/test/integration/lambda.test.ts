/**
 * The Lambda adapter against the shared test table, each request an API Gateway HTTP API (payload 2.0)
 * or Function URL event run by lambda-local, from the recorded sample events in `lambda/`.
 */
import { readFileSync } from 'node:fs';
import type { BlueprintApp } from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, Handler } from 'aws-lambda';
import lambdaLocal from 'lambda-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blueprintLambda, type LambdaHttpEvent, type LambdaHttpResult } from '../../src/lambda/index.js';
import {
  describeEdgeConformance,
  EDGE_OPTIONS,
  type EdgeProbe,
  type EdgeTestRequest,
  type EdgeTestResponse,
  edgeRoutes,
  startEdgeApp,
} from '../../src/testing/index.js';

const sample = (name: string): APIGatewayProxyEventV2 =>
  JSON.parse(readFileSync(new URL(`./lambda/${name}.json`, import.meta.url), 'utf8'));

/** An event of the shape of a recorded sample, for another request. */
function eventFor(
  template: APIGatewayProxyEventV2,
  method: string,
  url: string,
  init: EdgeTestRequest = {},
): APIGatewayProxyEventV2 {
  const mark = url.indexOf('?');
  const rawPath = mark === -1 ? url : url.slice(0, mark);
  const { body: _body, isBase64Encoded: _encoded, ...rest } = template;
  const headers: Record<string, string | undefined> = { ...template.headers };
  delete headers['content-type'];
  delete headers['content-length'];
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    ...rest,
    rawPath,
    rawQueryString: mark === -1 ? '' : url.slice(mark + 1),
    headers,
    requestContext: {
      ...template.requestContext,
      http: { ...template.requestContext.http, method, path: rawPath },
    },
    isBase64Encoded: false,
    ...(init.body === undefined ? {} : { body: init.body }),
  };
}

/** Runs one event through lambda-local, as the Lambda runtime would call the handler. */
async function invoke(
  handler: (event: LambdaHttpEvent, context: Context) => Promise<LambdaHttpResult>,
  event: APIGatewayProxyEventV2 | Record<string, unknown>,
  timeoutMs = 30_000,
): Promise<LambdaHttpResult> {
  return (await lambdaLocal.execute({
    event,
    lambdaFunc: { handler },
    lambdaHandler: 'handler',
    timeoutMs,
    verboseLevel: 0,
  })) as LambdaHttpResult;
}

const responseOf = (result: LambdaHttpResult): EdgeTestResponse => ({
  status: result.statusCode,
  headers: result.headers,
  text: result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString('utf8') : result.body,
});

for (const shape of ['http-api-v2', 'function-url'] as const) {
  describeEdgeConformance(
    `lambda (${shape})`,
    async ({ app, routes, options }) => {
      const handler = blueprintLambda({ routes, clients: app, ...options });
      const template = sample(shape);
      return {
        request: async (method, path, init) =>
          responseOf(await invoke(handler, eventFor(template, method, path, init))),
        close: async () => {},
      };
    },
    { clientDisconnect: false },
  );
}

describe('lambda adapter', () => {
  let app: BlueprintApp;
  let probe: EdgeProbe;

  beforeAll(async () => {
    ({ app, probe } = await startEdgeApp());
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('takes the types of @types/aws-lambda as they are', () => {
    const handler: Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> = blueprintLambda({
      routes: edgeRoutes,
      clients: app,
    });
    expect(typeof handler).toBe('function');
  });

  it('answers the recorded sample events', async () => {
    const handler = blueprintLambda({ routes: edgeRoutes, clients: app, ...EDGE_OPTIONS });
    const got = responseOf(await invoke(handler, sample('http-api-v2')));
    expect(got.status).toBe(200);
    expect(JSON.parse(got.text)).toMatchObject({ id: 'a1', name: 'anvil' });
    // A Function URL sends a JSON body base64-encoded.
    const created = responseOf(await invoke(handler, sample('function-url')));
    expect(created.status).toBe(201);
    expect(JSON.parse(created.text)).toMatchObject({ id: 'n1', name: 'saw', price: 7 });
  });

  it('caps the deadline by the invocation’s remaining time: 504 before Lambda kills it, and the work aborted', async () => {
    const handler = blueprintLambda({ routes: edgeRoutes, clients: app, ...EDGE_OPTIONS, margin: 100 });
    const before = probe.aborted;
    const started = Date.now();
    const got = responseOf(await invoke(handler, eventFor(sample('http-api-v2'), 'GET', '/wait'), 800));
    expect(got.status).toBe(504);
    expect(JSON.parse(got.text).error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(800);
    await waitFor(() => probe.aborted > before, { message: 'the implementation’s signal to fire' });
  });

  it('strips a stage prefix given as basePath, for the routes and the OpenAPI document', async () => {
    const handler = blueprintLambda({ routes: edgeRoutes, clients: app, basePath: '/prod' });
    const template = sample('http-api-v2');
    const item = responseOf(await invoke(handler, eventFor(template, 'GET', '/prod/items/a1')));
    expect(item.status).toBe(200);
    const document = responseOf(await invoke(handler, eventFor(template, 'GET', '/prod/openapi.json')));
    expect(JSON.parse(document.text).openapi).toBe('3.1.0');
    const other = responseOf(await invoke(handler, eventFor(template, 'GET', '/production/items/a1')));
    expect(other.status).toBe(404);
  });

  it('answers HEAD like GET without a body', async () => {
    const handler = blueprintLambda({ routes: edgeRoutes, clients: app });
    const got = await invoke(handler, eventFor(sample('http-api-v2'), 'HEAD', '/items/a1'));
    expect(got.statusCode).toBe(200);
    expect(got.body).toBe('');
  });

  it('awaits clients given as a promise: concurrent first invocations wait for the same app', async () => {
    let resolve: (value: BlueprintApp) => void = () => {};
    const clients = new Promise<BlueprintApp>((done) => {
      resolve = done;
    });
    const handler = blueprintLambda({ routes: edgeRoutes, clients });
    const event = eventFor(sample('http-api-v2'), 'GET', '/items/a1');
    const answers = Promise.all([invoke(handler, event), invoke(handler, event)]);
    resolve(app);
    expect((await answers).map((a) => a.statusCode)).toEqual([200, 200]);
  });

  it('fails an invocation with an event of another shape with a coded error naming the shapes it takes', async () => {
    const handler = blueprintLambda({ routes: edgeRoutes, clients: app });
    const restApiV1 = { resource: '/items', path: '/items', httpMethod: 'GET', headers: {}, body: null };
    // What the Lambda runtime reports (lambda-local reports it the same way): the error's name and message.
    const failure = await invoke(handler, restApiV1).catch((error: unknown) => error);
    expect(failure).toMatchObject({ errorType: 'LambdaEventError' });
    expect((failure as { errorMessage: string }).errorMessage).toContain('payload format 2.0');
  });
});
