/**
 * The dashboard's HTTP routes: its page and its JSON API, relative to a prefix (`""` on the dashboard's
 * own port under `blueprint dev`, `"/dashboard"` on an admin listener):
 *
 * ```
 * GET  PREFIX/                                   the page (one HTML file, no external resources)
 * GET  PREFIX/api/architecture                   processes, services, calls (with rates), events
 * GET  PREFIX/api/traces?route=&status=&minMs=&correlationId=   recent traces, newest first
 * GET  PREFIX/api/traces/TRACE_ID                the spans of one trace
 * GET  PREFIX/api/events                         each process's `events` section (dead letters, counters)
 * POST PREFIX/api/events/dead-letters/replay     {"id": "..."}: replays a dead letter
 * POST PREFIX/api/events/dead-letters/discard    {"id": "..."}: discards it
 * GET  PREFIX/api/cache                          each process's `cache` section
 * ```
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotFoundError, serializeError, ValidationError } from '../errors.js';
import { readJsonBody } from '../internal/operator-http.js';
import { isForwardedError } from './admin-client.js';
import type { Collector } from './collector.js';
import type { TraceFilter } from './trace-store.js';

/** Largest body the dashboard's actions accept: 16 KiB. */
const MAX_BODY = 16 * 1024;

const PAGE_FILE = new URL('../../dashboard/index.html', import.meta.url);
let page: string | undefined;

/** The dashboard's page (read once). */
export function dashboardPage(): string {
  page ??= readFileSync(PAGE_FILE, 'utf8');
  return page;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    // The page loads nothing from elsewhere and is never framed.
    'content-security-policy':
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors 'none'",
  });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json', JSON.stringify(value));
}

/** Answers a failure with its code and message only. */
function fail(response: ServerResponse, error: unknown): void {
  if (isForwardedError(error)) {
    sendJson(response, error.status, { error: error.body });
    return;
  }
  const { status, body } = serializeError(error);
  sendJson(response, status, { error: { code: body.code, message: body.message } });
}

const TRACE = /^\/api\/traces\/([^/]+)$/;
const DEAD_LETTER_ACTION = /^\/api\/events\/dead-letters\/(replay|discard)$/;

function filterOf(params: URLSearchParams): TraceFilter {
  const text = (name: string, max = 200) => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    if (value.length > max) throw new ValidationError(`${name} is longer than ${max} characters`);
    return value;
  };
  const minMs = text('minMs', 12);
  if (minMs !== undefined && !/^\d+(\.\d+)?$/.test(minMs)) {
    throw new ValidationError('minMs must be a number of milliseconds, e.g. minMs=50');
  }
  const status = text('status', 5);
  if (status !== undefined && !/^(ok|error|\d{3})$/.test(status)) {
    throw new ValidationError('status must be ok, error or an HTTP status like 201');
  }
  return {
    route: text('route'),
    status,
    minMs: minMs === undefined ? undefined : Number(minMs),
    correlationId: text('correlationId'),
  };
}

/**
 * Makes the handler of the dashboard's routes under `prefix`. It answers and returns true for its own
 * routes, and returns false (having written nothing) for any other request.
 */
export function dashboardRoutes(
  collector: Collector,
  prefix = '',
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    if (!url.pathname.startsWith(prefix)) return false;
    const path = url.pathname.slice(prefix.length) || '/';
    const answer = (work: () => Promise<unknown>) => {
      work().then(
        (value) => sendJson(response, 200, value),
        (error: unknown) => fail(response, error),
      );
      return true;
    };
    if (request.method === 'GET') {
      switch (path) {
        case '/':
        case '/index.html':
          request.resume();
          send(response, 200, 'text/html; charset=utf-8', dashboardPage());
          return true;
        case '/api/architecture':
          return answer(() => collector.architecture());
        case '/api/traces':
          return answer(async () => collector.traces(filterOf(url.searchParams)));
        case '/api/events':
          return answer(() => collector.section('events'));
        case '/api/cache':
          return answer(() => collector.section('cache'));
      }
      const trace = TRACE.exec(path);
      if (trace !== null) {
        const id = trace[1]!;
        return answer(async () => {
          if (!/^[0-9a-f]{32}$/.test(id)) throw new ValidationError('a trace id is 32 hex digits');
          return collector.trace(id);
        });
      }
      return false;
    }
    if (request.method === 'POST') {
      const action = DEAD_LETTER_ACTION.exec(path);
      if (action === null) return false;
      return answer(async () => {
        if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
          request.resume();
          throw new ValidationError('send the body as application/json: {"id": "..."}');
        }
        const input = await readJsonBody(request, MAX_BODY);
        const id = (input as { id?: unknown } | null)?.id;
        if (
          typeof input !== 'object' ||
          input === null ||
          Array.isArray(input) ||
          Object.keys(input).length !== 1 ||
          typeof id !== 'string' ||
          id === '' ||
          id.length > 1_024
        ) {
          throw new ValidationError('the body must be {"id": "<dead letter id>"} and nothing else');
        }
        return collector.act('events', action[1]!, { id });
      });
    }
    return false;
  };
}

/** The answer to a request no dashboard route matches. */
export function notFound(response: ServerResponse): void {
  fail(response, new NotFoundError('no such dashboard route; open / for the page, or GET /api/architecture'));
}
