/**
 * The dedicated metrics server (`observability.metrics.port`), for processes that serve no HTTP of their
 * own: `GET /metrics`, `GET /health/live`, `GET /health/ready`.
 */
import { createServer, type ServerResponse } from 'node:http';
import { answerOperatorRoute, listen } from '../internal/operator-http.js';
import type { HealthCheckResult } from '../plugin.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Host to bind. Default `127.0.0.1`. */
  readonly host?: string | undefined;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** The Prometheus text and its content type. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
  /** Readiness of the process, for `/health/ready`. */
  readonly readiness: () => Promise<{ ok: boolean; checks: Record<string, HealthCheckResult> }>;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The URL it listens on, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** Starts the metrics server and resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const json = 'application/json';
  const fail = (response: ServerResponse, error: unknown) =>
    send(response, 500, json, JSON.stringify({ error: { code: 'INTERNAL', message: String(error) } }));
  const routes = { readiness: options.readiness, metrics: options.metrics, send, fail };
  const server = createServer({ keepAliveTimeout: 4_000 }, (request, response) => {
    request.resume();
    if (answerOperatorRoute(request, response, routes)) return;
    send(
      response,
      404,
      json,
      JSON.stringify({
        error: {
          code: 'NOT_FOUND',
          message: `no route ${request.method} ${request.url}; this server answers GET /metrics, /health/live and /health/ready`,
        },
      }),
    );
  });
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
