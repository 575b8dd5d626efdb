/**
 * The admin listener of a process (`admin.port`): the operator routes `GET /metrics`,
 * `GET /health/live` and `GET /health/ready`, apart from the ports that serve calls and the public API.
 * It binds `127.0.0.1` unless the topology says otherwise; with `admin.token`, details need
 * `authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serializeError } from '../errors.js';
import { answerOperatorRoute, listen } from '../internal/operator-http.js';
import {
  applyServerLimits,
  DEFAULT_SERVER_LIMITS,
  type ServerLimits,
  serverOptions,
} from '../rpc/http/limits.js';
import type { Secret } from '../topology/secret.js';
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
}

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

/** True when `request` carries `authorization: Bearer <token>`. */
function bearerMatches(request: IncomingMessage, token: Secret): boolean {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7));
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
  const server = createServer(serverOptions(ADMIN_LIMITS), (request, response) => {
    request.resume();
    if (answerOperatorRoute(request, response, routes)) return;
    send(
      response,
      404,
      json,
      JSON.stringify({
        error: {
          code: 'NOT_FOUND',
          message: 'no such route; the admin listener answers GET /metrics, /health/live and /health/ready',
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
