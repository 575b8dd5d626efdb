/**
 * @blueprint/http/testing — the adapters' shared test table: one vitest suite every adapter passes
 * (Fastify, Express, Lambda here; yours too), so good and bad requests get the same answers everywhere.
 */
import type { BlueprintApp } from '@blueprint/core';
import { waitFor } from '@blueprint/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_OPTIONS, type EdgeProbe, edgeRoutes, startEdgeApp } from './fixture.js';

export {
  EDGE_OPTIONS,
  EdgeCatalogue,
  EdgeItem,
  type EdgeProbe,
  edgeRoutes,
  startEdgeApp,
} from './fixture.js';

/** An answer as the suite reads it. */
export interface EdgeTestResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

/** A request the suite sends. */
export interface EdgeTestRequest {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** An adapter under test, serving {@link edgeRoutes} with {@link EDGE_OPTIONS}. */
export interface EdgeUnderTest {
  /** Sends one request. */
  request(method: string, path: string, init?: EdgeTestRequest): Promise<EdgeTestResponse>;
  /** The base URL, for adapters that listen on a port: the suite then also tests client disconnects. */
  readonly baseUrl?: string;
  /** Stops the adapter (the suite stops the app). */
  close(): Promise<void>;
}

/** What an adapter can be tested for beyond the table every adapter passes. */
export interface EdgeFeatures {
  /**
   * The adapter listens on a port (`baseUrl`) and a client can go away mid-request: the suite checks that
   * the call's signal fires. `false` for adapters without a connection (Lambda). Default true.
   */
  readonly clientDisconnect?: boolean;
}

/** What `setup` gets: the running fixture app, the routes and the options to serve them with. */
export interface EdgeFixture {
  readonly app: BlueprintApp;
  readonly routes: typeof edgeRoutes;
  readonly options: typeof EDGE_OPTIONS;
}

/** What an answer to a client must never show: stack frames, file paths, framework codes. */
const INTERNAL_TEXT = /\bat \S+ \(|node_modules|\/srv\/|\.[jt]s:\d+|FST_ERR|SyntaxError|TypeError/;

const json = (text: string): any => (text === '' ? undefined : JSON.parse(text));

type Case = readonly [
  name: string,
  method: string,
  path: string,
  init: EdgeTestRequest | undefined,
  status: number,
  code: string | undefined,
];

const JSON_HEADERS = { 'content-type': 'application/json' };
/** A JSON request whose body is `text` as it is, to send JSON the serializer would never write. */
const jsonText = (text: string): EdgeTestRequest => ({ headers: JSON_HEADERS, body: text });
const body = (value: unknown): EdgeTestRequest => jsonText(JSON.stringify(value));

/** Bad input: the same coded answers on every adapter. */
const BAD_INPUT: readonly Case[] = [
  ['a query value of the wrong type', 'GET', '/items?limit=abc', undefined, 400, 'VALIDATION_FAILED'],
  ['a query value out of range', 'GET', '/items?limit=0', undefined, 400, 'VALIDATION_FAILED'],
  ['an unknown query key (strict input)', 'GET', '/items?admin=1', undefined, 400, 'VALIDATION_FAILED'],
  ['a malformed date in the query', 'GET', '/items?since=yesterday', undefined, 400, 'VALIDATION_FAILED'],
  [
    'a path parameter too long for the schema',
    'GET',
    `/items/${'x'.repeat(300)}`,
    undefined,
    400,
    'VALIDATION_FAILED',
  ],
  ['a path parameter outside its enum', 'GET', '/fail/other', undefined, 400, 'VALIDATION_FAILED'],
  ['a path that is not valid percent-encoding', 'GET', '/items/%E0%A4%A', undefined, 400, 'MALFORMED_URL'],
  [
    'a body field of the wrong type',
    'POST',
    '/items',
    body({ name: 'x', price: '3' }),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'an unknown body field (strict input)',
    'POST',
    '/items',
    body({ name: 'x', price: 3, admin: true }),
    400,
    'VALIDATION_FAILED',
  ],
  ['a body that is an array', 'POST', '/items', body([]), 400, 'VALIDATION_FAILED'],
  ['no body', 'POST', '/items', undefined, 400, 'VALIDATION_FAILED'],
  ['an empty JSON body', 'POST', '/items', jsonText(''), 400, 'MALFORMED_JSON'],
  ['malformed JSON', 'POST', '/items', jsonText('{"name": '), 400, 'MALFORMED_JSON'],
  [
    'a __proto__ key',
    'POST',
    '/items',
    jsonText('{"name":"x","price":1,"__proto__":{"p":1}}'),
    400,
    'MALFORMED_JSON',
  ],
  [
    'a constructor.prototype key',
    'POST',
    '/items',
    jsonText('{"name":"x","price":1,"constructor":{"prototype":{"p":1}}}'),
    400,
    'MALFORMED_JSON',
  ],
  [
    'JSON nested too deep',
    'POST',
    '/items',
    jsonText(`${'['.repeat(200)}${']'.repeat(200)}`),
    400,
    'MALFORMED_JSON',
  ],
  [
    'objects nested too deep',
    'POST',
    '/items',
    jsonText(`${'{"a":'.repeat(150)}1${'}'.repeat(150)}`),
    400,
    'MALFORMED_JSON',
  ],
  ['a JSON null body', 'POST', '/items', jsonText('null'), 400, 'VALIDATION_FAILED'],
  [
    'a number too large for its field',
    'POST',
    '/items',
    jsonText('{"name":"x","price":1e400}'),
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a body with invalid UTF-8 escapes',
    'POST',
    '/items',
    jsonText('{"name":"\\ud800\\u","price":1}'),
    400,
    'MALFORMED_JSON',
  ],
  [
    'a path parameter of 10,000 characters',
    'GET',
    `/items/${'x'.repeat(10_000)}`,
    undefined,
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a query value of 5,000 characters',
    'GET',
    `/items?q=${'q'.repeat(5_000)}`,
    undefined,
    400,
    'VALIDATION_FAILED',
  ],
  [
    'a negative timeout header',
    'GET',
    '/items/a1',
    { headers: { 'x-request-timeout': '-5' } },
    400,
    'HEADER_INVALID',
  ],
  [
    'a timeout header of 1,000 digits',
    'GET',
    '/items/a1',
    { headers: { 'x-request-timeout': '9'.repeat(1_000) } },
    400,
    'HEADER_INVALID',
  ],
  [
    'a JSON look-alike content type',
    'POST',
    '/items',
    { headers: { 'content-type': 'application/jsonx' }, body: '{"name":"x","price":1}' },
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a text/plain body',
    'POST',
    '/items',
    { headers: { 'content-type': 'text/plain' }, body: 'name=x' },
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a body without a content type',
    'POST',
    '/items',
    { body: '{"name":"x","price":1}' },
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'a body over the limit',
    'POST',
    '/items',
    body({ name: 'x', price: 1, pad: 'x'.repeat(2_000) }),
    413,
    'PAYLOAD_TOO_LARGE',
  ],
  ['an unknown route', 'GET', '/nothing/here', undefined, 404, 'NOT_FOUND'],
  ['a wrong method', 'PATCH', '/items/a1', body({ name: 'x' }), 405, 'METHOD_NOT_ALLOWED'],
  [
    'a malformed timeout header',
    'GET',
    '/items/a1',
    { headers: { 'x-request-timeout': 'soon' } },
    400,
    'HEADER_INVALID',
  ],
];

/**
 * Registers the shared table for one adapter. `setup` runs once with the fixture app started; it returns
 * the adapter serving `routes` with `options`.
 *
 * @example
 * describeEdgeConformance('fastify', async ({ app, routes, options }) => {
 *   const server = Fastify(blueprintFastifyOptions());
 *   await server.register(blueprintFastify, { routes, clients: app, ...options });
 *   ...
 * });
 */
export function describeEdgeConformance(
  name: string,
  setup: (fixture: EdgeFixture) => Promise<EdgeUnderTest>,
  features: EdgeFeatures = {},
): void {
  describe(`edge conformance: ${name}`, () => {
    let edge: EdgeUnderTest;
    let app: BlueprintApp;
    let probe: EdgeProbe;

    beforeAll(async () => {
      ({ app, probe } = await startEdgeApp());
      edge = await setup({ app, routes: edgeRoutes, options: EDGE_OPTIONS });
    });
    afterAll(async () => {
      await edge?.close();
      await app?.stop();
    });

    it('answers a path parameter route with the output as JSON (dates as ISO strings)', async () => {
      const response = await edge.request('GET', '/items/a1');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(json(response.text)).toEqual({
        id: 'a1',
        name: 'anvil',
        price: 100,
        addedAt: '2025-01-02T03:04:05.000Z',
      });
    });

    it('coerces query values to the fields’ types: numbers, booleans, dates, repeated keys as arrays', async () => {
      const response = await edge.request(
        'GET',
        '/items?q=saw&limit=5&tags=a&tags=b&inStock=true&since=2025-01-01T00:00:00Z',
      );
      expect(response.status).toBe(200);
      expect(json(response.text)).toEqual({
        q: 'saw',
        limit: 5,
        tags: ['a', 'b'],
        inStock: true,
        since: '2025-01-01T00:00:00.000Z',
      });
      expect(json((await edge.request('GET', '/items')).text)).toEqual({ limit: 10 });
    });

    it('takes a POST body as the input, with the route’s status', async () => {
      const response = await edge.request('POST', '/items', body({ name: 'saw', price: 7 }));
      expect(response.status).toBe(201);
      expect(json(response.text)).toMatchObject({ id: 'n1', name: 'saw', price: 7 });
    });

    it('puts path parameters into the body’s input (the path wins), and answers undefined with 204', async () => {
      const renamed = await edge.request('PUT', '/items/a1', body({ id: 'other', name: 'hammer' }));
      expect(renamed.status).toBe(200);
      expect(json(renamed.text)).toMatchObject({ id: 'a1', name: 'hammer' });
      const removed = await edge.request('DELETE', '/items/a1');
      expect(removed.status).toBe(204);
      expect(removed.text).toBe('');
    });

    it('answers coded errors with their status, code, message and details', async () => {
      const missing = await edge.request('GET', '/items/nope');
      expect(missing.status).toBe(404);
      expect(json(missing.text)).toEqual({
        error: { code: 'NOT_FOUND', message: 'item nope does not exist', details: { id: 'nope' } },
      });
      const conflict = await edge.request('GET', '/fail/conflict');
      expect(conflict.status).toBe(409);
      expect(json(conflict.text)).toEqual({
        error: { code: 'CONFLICT', message: 'item a1 is locked', details: { id: 'a1' } },
      });
    });

    it('answers a 500 with a generic message naming the correlation id, never the internals', async () => {
      for (const [path, code] of [
        ['/fail/internal', 'INTERNAL'],
        ['/fail/output', 'OUTPUT_INVALID'],
      ] as const) {
        const response = await edge.request('GET', path, { headers: { 'x-correlation-id': 'c-500' } });
        expect(response.status).toBe(500);
        expect(json(response.text)).toEqual({
          error: { code, message: "internal error; see the server's logs, correlation id c-500" },
        });
        expect(response.text).not.toContain('/srv/data');
      }
    });

    it.each(BAD_INPUT)('refuses %s', async (_name, method, path, init, status, code) => {
      const response = await edge.request(method, path, init);
      expect(response.status).toBe(status);
      const parsed = json(response.text);
      expect(parsed.error.code).toBe(code);
      expect(typeof parsed.error.message).toBe('string');
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.text).not.toMatch(INTERNAL_TEXT);
      expect(({} as { p?: unknown }).p).toBeUndefined();
    });

    it('drops __proto__, constructor and prototype query keys, and pollutes nothing', async () => {
      const response = await edge.request('GET', '/items?__proto__=x&constructor=y&prototype=z&limit=3');
      expect(response.status).toBe(200);
      expect(json(response.text)).toEqual({ limit: 3 });
      expect(({} as { x?: unknown }).x).toBeUndefined();
    });

    it('answers a body at the limit, and the same body one byte over with 413', async () => {
      const exact = (size: number) => {
        const shell = JSON.stringify({ name: 'x', price: 1, pad: '' });
        return shell.replace('"pad":""', `"pad":"${'p'.repeat(size - shell.length)}"`);
      };
      const at = await edge.request('POST', '/items', { headers: JSON_HEADERS, body: exact(1024) });
      // The body reaches the schema (which refuses the unknown key): it was not refused for its size.
      expect(json(at.text).error.code).toBe('VALIDATION_FAILED');
      const over = await edge.request('POST', '/items', { headers: JSON_HEADERS, body: exact(1025) });
      expect(over.status).toBe(413);
      expect(json(over.text).error).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body is larger than 1024 bytes',
        details: { limit: 1024 },
      });
    });

    it('names the issue paths of a validation failure', async () => {
      const response = await edge.request('GET', `/items/${'x'.repeat(300)}`);
      expect(
        json(response.text).error.details.issues.map((i: { path: string[] }) => i.path.join('.')),
      ).toEqual(['id']);
      const query = await edge.request('GET', '/items?limit=abc');
      expect(json(query.text).error.details.issues[0].path).toEqual(['limit']);
    });

    it('lists the allowed methods of a 405 in its allow header', async () => {
      const response = await edge.request('DELETE', '/items');
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, POST');
      expect(json(response.text).error.details).toEqual({ allow: ['GET', 'POST'] });
    });

    it('keeps a sane correlation id, replaces a bad one, and sets the request context', async () => {
      const kept = await edge.request('GET', '/context', { headers: { 'x-correlation-id': 'req-42' } });
      expect(kept.headers['x-correlation-id']).toBe('req-42');
      const seen = json(kept.text);
      expect(seen.correlationId).toBe('req-42');
      expect(seen.remainingMs).toBeGreaterThan(4_000);
      expect(seen.remainingMs).toBeLessThanOrEqual(5_000);
      const replaced = await edge.request('GET', '/context', {
        headers: { 'x-correlation-id': '<script>alert(1)</script>' },
      });
      expect(replaced.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(json(replaced.text).correlationId).toBe(replaced.headers['x-correlation-id']);
      const shorter = json(
        (await edge.request('GET', '/context', { headers: { 'x-request-timeout': '2s' } })).text,
      );
      expect(shorter.remainingMs).toBeLessThanOrEqual(2_000);
      const capped = json(
        (await edge.request('GET', '/context', { headers: { 'x-request-timeout': '1h' } })).text,
      );
      expect(capped.remainingMs).toBeLessThanOrEqual(10_000);
    });

    it('answers 504 TIMEOUT at the deadline a caller asks for, and aborts the work', async () => {
      const before = probe.aborted;
      const started = Date.now();
      const response = await edge.request('GET', '/wait', { headers: { 'x-request-timeout': '100' } });
      expect(response.status).toBe(504);
      expect(json(response.text).error.code).toBe('TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3_000);
      await waitFor(() => probe.aborted > before, { message: 'the implementation’s signal to fire' });
    });

    it('serves the OpenAPI document', async () => {
      const response = await edge.request('GET', '/openapi.json');
      expect(response.status).toBe(200);
      const document = json(response.text);
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths)).toContain('/items/{id}');
    });

    if (features.clientDisconnect === false) return;
    it('aborts the work when the client goes away', async () => {
      if (edge.baseUrl === undefined) {
        throw new Error(`${name}: set baseUrl, or pass { clientDisconnect: false }`);
      }
      const before = { waiting: probe.waiting, aborted: probe.aborted };
      const controller = new AbortController();
      const pending = fetch(`${edge.baseUrl}/wait`, { signal: controller.signal }).catch(() => undefined);
      await waitFor(() => probe.waiting > before.waiting, { message: 'the call to start' });
      controller.abort();
      await pending;
      await waitFor(() => probe.aborted > before.aborted, { message: 'the implementation’s signal to fire' });
    });
  });
}
