/**
 * What every Blueprint listener shares: binding to a port; and what the HTTP ones share: the operator routes
 * `GET /health/live`, `GET /health/ready` and `GET /metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { ReadinessReport } from '../app/health.js';
import { parseJsonSafely } from '../codec.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';

/**
 * Listens on `port` (0 picks a free one) and `host`, and resolves to the server's URL with `scheme`
 * (`http`, or `https`, `tcp`, `tcps` for the other listeners).
 */
export async function listen(
  server: NetServer,
  port: number,
  host = '127.0.0.1',
  scheme = 'http',
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${hostname}:${address.port}`;
}

/** What the operator routes answer from, and how they write. */
export interface OperatorRoutes {
  /** Readiness of the process, for `/health/ready`. */
  readonly readiness: () => Promise<ReadinessReport>;
  /** Prometheus text and its content type, for `/metrics`; no `/metrics` route when absent. */
  readonly metrics?: (() => Promise<{ readonly contentType: string; readonly text: string }>) | undefined;
  /** True while the server drains: readiness then answers 503. */
  readonly draining?: () => boolean;
  /** Writes a response. */
  readonly send: (response: ServerResponse, status: number, contentType: string, body: string) => void;
  /** Answers a route whose source failed. */
  readonly fail: (response: ServerResponse, error: unknown) => void;
  /**
   * Whether `request` may see details: every check of `/health/ready`, and `/metrics`. Others get the
   * bare status of the health probes, and 401 for `/metrics`. Default: every request may.
   */
  readonly authorized?: (request: IncomingMessage) => boolean;
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
    case '/health/ready': {
      const detailed = routes.authorized?.(request) ?? true;
      routes.readiness().then(
        (report) => {
          const ok = report.ok && !(routes.draining?.() ?? false);
          const body = detailed ? { status: ok ? 'ok' : 'fail', ...report } : { status: ok ? 'ok' : 'fail' };
          routes.send(response, ok ? 200 : 503, JSON_TYPE, JSON.stringify(body));
        },
        (error: unknown) => routes.fail(response, error),
      );
      return true;
    }
    case '/metrics': {
      const metrics = routes.metrics;
      if (metrics === undefined) return false;
      if (!(routes.authorized?.(request) ?? true)) {
        routes.fail(
          response,
          new UnauthenticatedError('the metrics need the admin token: authorization: Bearer <token>'),
        );
        return true;
      }
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

/**
 * Reads a JSON body of at most `maxBytes`: a larger one rejects with `VALIDATION_FAILED` (the rest is
 * drained), malformed or unsafe JSON with `CODEC_INVALID`; an empty body reads as `{}`.
 */
export function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        refused = true;
        reject(
          new ValidationError(`the request body is over ${maxBytes} bytes; send a smaller one`, {
            details: { maxBytes },
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text.trim() === '' ? {} : parseJsonSafely(text));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}
