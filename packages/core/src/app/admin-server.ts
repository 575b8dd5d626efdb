/**
 * The admin listener of a process (`admin.port`): the operator routes `GET /metrics`,
 * `GET /health/live` and `GET /health/ready`, apart from the ports that serve calls and the public API.
 * It binds `127.0.0.1` unless the topology says otherwise; with `admin.token`, details need
 * `authorization: Bearer <token>`. It also serves what the dashboard reads of this process:
 * `GET /dashboard/process`, `GET /dashboard/spans?after=SEQ`, `GET /dashboard/sections/NAME` and
 * `POST /dashboard/sections/NAME/ACTION` (always behind the token when there is one).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { NotFoundError, serializeError, UnauthenticatedError, ValidationError } from '../errors.js';
import { answerOperatorRoute, listen, readJsonBody } from '../internal/operator-http.js';
import type { SpanRecorder } from '../observability/span-recorder.js';
import {
  applyServerLimits,
  DEFAULT_SERVER_LIMITS,
  type ServerLimits,
  serverOptions,
} from '../rpc/http/limits.js';
import type { Secret } from '../topology/secret.js';
import type { DashboardSections } from './dashboard-sections.js';
import type { ReadinessReport } from './health.js';

/**
 * The admin listener's limits: those of the `http` RPC server's defaults (10 s for the headers, 30 s for
 * the request, 4 s keep-alive, 16 KiB of headers), and 256 connections: its callers are probes and a
 * metrics scraper.
 */
const ADMIN_LIMITS: ServerLimits = Object.freeze({ ...DEFAULT_SERVER_LIMITS, maxConnections: 256 });

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Host to bind. Default `127.0.0.1`. */
  readonly host?: string | undefined;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** The Prometheus text and its content type; no `/metrics` route when undefined (metrics off). */
  readonly metrics: (() => Promise<{ readonly contentType: string; readonly text: string }>) | undefined;
  /** Readiness of the process, for `/health/ready`. */
  readonly readiness: () => Promise<ReadinessReport>;
  /** The token details need. Default: none (the listener is reachable from trusted hosts only). */
  readonly token?: Secret | undefined;
  /** What the dashboard routes serve; none of them without it. */
  readonly dashboard?: AdminDashboard | undefined;
  /**
   * Answers other requests the listener should serve (the dashboard's page and API under `/dashboard/`
   * with `admin.dashboard`), once authorized; returns false for a request it does not know.
   */
  readonly extra?: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
}

/** What the admin listener tells the dashboard about its process. */
export interface AdminDashboard {
  /** App name. */
  readonly app: string;
  /** Process name. */
  readonly process: string;
  /** Replica index. */
  readonly replica: number;
  /** The sections plugins added. */
  readonly sections: DashboardSections;
  /** The recent spans, when an in-memory tracer records them. */
  readonly spans: SpanRecorder | undefined;
}

/** Largest body of a dashboard action: 16 KiB. */
export const MAX_ACTION_BODY = 16 * 1024;

/** A running admin listener. */
export interface AdminServer {
  /** The URL it listens on, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
  });
  response.end(body);
}

/**
 * True when `request` carries `authorization: Bearer <token>`, or, for a browser on the dashboard,
 * `authorization: Basic` with the token as the password (any user name).
 */
function bearerMatches(request: IncomingMessage, token: Secret): boolean {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return false;
  let given: Buffer;
  if (header.startsWith('Bearer ')) given = Buffer.from(header.slice(7));
  else if (header.startsWith('Basic ') && (request.url ?? '').startsWith('/dashboard')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    given = Buffer.from(decoded.slice(decoded.indexOf(':') + 1));
  } else return false;
  const expected = Buffer.from(token.reveal());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Starts the admin listener and resolves once it listens. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const json = 'application/json';
  const fail = (response: ServerResponse, error: unknown) => {
    const { status, body } = serializeError(error);
    send(response, status, json, JSON.stringify({ error: { code: body.code, message: body.message } }));
  };
  const { token } = options;
  const routes = {
    readiness: options.readiness,
    metrics: options.metrics,
    send,
    fail,
    ...(token === undefined
      ? {}
      : { authorized: (request: IncomingMessage) => bearerMatches(request, token) }),
  };
  const authorized = routes.authorized ?? (() => true);
  const server = createServer(serverOptions(ADMIN_LIMITS), (request, response) => {
    if (request.method !== 'POST') request.resume();
    if (answerOperatorRoute(request, response, routes)) return;
    const path = (request.url ?? '/').split('?')[0]!;
    if (path.startsWith('/dashboard')) {
      if (!authorized(request)) {
        request.resume();
        // A browser asks for the token (as the password) and sends it with every request of the page.
        response.setHeader('www-authenticate', 'Basic realm="Blueprint admin", charset="UTF-8"');
        fail(
          response,
          new UnauthenticatedError(
            'the dashboard needs the admin token: authorization: Bearer <token>, or the token as the password',
          ),
        );
        return;
      }
      if (options.dashboard !== undefined && answerDashboardRoute(request, response, options.dashboard, fail))
        return;
      if (options.extra?.(request, response) === true) return;
    }
    request.resume();
    send(
      response,
      404,
      json,
      JSON.stringify({
        error: {
          code: 'NOT_FOUND',
          message:
            'no such route; the admin listener answers GET /metrics, /health/live, /health/ready and /dashboard/*',
        },
      }),
    );
  });
  applyServerLimits(server, ADMIN_LIMITS);
  const url = await listen(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const JSON_TYPE = 'application/json';

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, JSON_TYPE, JSON.stringify(value));
}

const SECTION_ROUTE = /^\/dashboard\/sections\/([a-z][a-z0-9-]{0,31})(?:\/([A-Za-z][A-Za-z0-9-]{0,31}))?$/;

/** Answers the dashboard routes of one process; false for any other request. */
function answerDashboardRoute(
  request: IncomingMessage,
  response: ServerResponse,
  dashboard: AdminDashboard,
  fail: (response: ServerResponse, error: unknown) => void,
): boolean {
  const url = new URL(request.url ?? '/', 'http://admin');
  const { pathname } = url;
  if (request.method === 'GET' && pathname === '/dashboard/process') {
    sendJson(response, 200, {
      app: dashboard.app,
      process: dashboard.process,
      replica: dashboard.replica,
      pid: process.pid,
      spans: dashboard.spans !== undefined,
      sections: dashboard.sections.names(),
    });
    return true;
  }
  if (request.method === 'GET' && pathname === '/dashboard/spans') {
    const { spans } = dashboard;
    if (spans === undefined) {
      fail(
        response,
        new NotFoundError(
          'this process records no spans: run it under blueprint dev, or set "admin": { "dashboard": true }, without an OpenTelemetry SDK of your own',
        ),
      );
      return true;
    }
    const after = url.searchParams.get('after') ?? '0';
    if (!/^\d{1,15}$/.test(after)) {
      fail(response, new ValidationError('after must be a span sequence number, e.g. ?after=120'));
      return true;
    }
    const list = spans.since(Number(after));
    sendJson(response, 200, {
      process: dashboard.process,
      replica: dashboard.replica,
      pid: process.pid,
      spans: list,
    });
    return true;
  }
  const match = SECTION_ROUTE.exec(pathname);
  if (match === null) return false;
  const [, name, action] = match as unknown as [string, string, string | undefined];
  const section = dashboard.sections.get(name);
  if (section === undefined) {
    request.resume();
    fail(
      response,
      new NotFoundError(
        `no dashboard section "${name}" in process "${dashboard.process}"; it has: ${dashboard.sections.names().join(', ') || 'none'}`,
        { details: { section: name } },
      ),
    );
    return true;
  }
  if (action === undefined) {
    if (request.method !== 'GET') return false;
    Promise.resolve()
      .then(() => section.read())
      .then(
        (data) => sendJson(response, 200, data ?? null),
        (error: unknown) => fail(response, error),
      );
    return true;
  }
  if (request.method !== 'POST') return false;
  const run = section.actions?.[action];
  if (run === undefined || !Object.hasOwn(section.actions ?? {}, action)) {
    request.resume();
    fail(
      response,
      new NotFoundError(
        `dashboard section "${name}" has no action "${action}"; it has: ${Object.keys(section.actions ?? {}).join(', ') || 'none'}`,
        { details: { section: name, action } },
      ),
    );
    return true;
  }
  readJsonBody(request, MAX_ACTION_BODY)
    .then((input) => run(input))
    .then(
      (result) => sendJson(response, 200, result ?? { ok: true }),
      (error: unknown) => fail(response, error),
    );
  return true;
}
