/**
 * What every Blueprint HTTP listener shares: binding to a port, and the operator routes
 * `GET /health/live`, `GET /health/ready` and `GET /metrics`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthCheckResult } from '../plugin.js';

/** Listens on `port` (0 picks a free one) and `host`, and resolves to the server's URL. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${hostname}:${address.port}`;
}

/** What the operator routes answer from, and how they write. */
export interface OperatorRoutes {
  /** Readiness of the process, for `/health/ready`. */
  readonly readiness: () => Promise<{ ok: boolean; checks: Record<string, HealthCheckResult> }>;
  /** Prometheus text and its content type, for `/metrics`; no `/metrics` route when absent. */
  readonly metrics?: (() => Promise<{ readonly contentType: string; readonly text: string }>) | undefined;
  /** True while the server drains: readiness then answers 503. */
  readonly draining?: () => boolean;
  /** Writes a response. */
  readonly send: (response: ServerResponse, status: number, contentType: string, body: string) => void;
  /** Answers a route whose source failed. */
  readonly fail: (response: ServerResponse, error: unknown) => void;
}

const JSON_TYPE = 'application/json';

/**
 * Answers `request` when it is one of the operator routes and returns true; returns false (having
 * written nothing) for any other request.
 */
export function answerOperatorRoute(
  request: IncomingMessage,
  response: ServerResponse,
  routes: OperatorRoutes,
): boolean {
  if (request.method !== 'GET') return false;
  switch (request.url) {
    case '/health/live':
      routes.send(response, 200, JSON_TYPE, '{"status":"ok"}');
      return true;
    case '/health/ready':
      routes.readiness().then(
        (report) => {
          const ok = report.ok && !(routes.draining?.() ?? false);
          routes.send(
            response,
            ok ? 200 : 503,
            JSON_TYPE,
            JSON.stringify({ status: ok ? 'ok' : 'fail', ...report }),
          );
        },
        (error: unknown) => routes.fail(response, error),
      );
      return true;
    case '/metrics': {
      const metrics = routes.metrics;
      if (metrics === undefined) return false;
      metrics().then(
        ({ contentType, text }) => routes.send(response, 200, contentType, text),
        (error: unknown) => routes.fail(response, error),
      );
      return true;
    }
    default:
      return false;
  }
}
