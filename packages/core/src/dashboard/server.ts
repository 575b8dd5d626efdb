/**
 * The dashboard's own listener under `blueprint dev`: always on `127.0.0.1`, never on a public interface.
 * It answers only requests addressed to a loopback host name (a page elsewhere cannot reach it through
 * DNS rebinding), and samples the processes every few seconds so call rates have a window.
 */
import { createServer } from 'node:http';
import { listen } from '../internal/operator-http.js';
import { applyServerLimits, DEFAULT_SERVER_LIMITS, serverOptions } from '../rpc/http/limits.js';
import type { Collector } from './collector.js';
import { dashboardRoutes, notFound } from './routes.js';

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** What it serves. */
  readonly collector: Collector;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** How often it samples metrics and spans, in ms. Default 5,000. */
  readonly sampleEveryMs?: number;
}

/** A running dashboard. */
export interface DashboardServer {
  /** Its URL, e.g. `http://127.0.0.1:9400/`. */
  readonly url: string;
  /** Stops sampling and closes the listener. */
  close(): Promise<void>;
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** Starts the dashboard on `127.0.0.1:port`. */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const routes = dashboardRoutes(options.collector);
  const limits = { ...DEFAULT_SERVER_LIMITS, maxConnections: 64 };
  const server = createServer(serverOptions(limits), (request, response) => {
    if (!LOOPBACK_HOST.test(request.headers.host ?? '')) {
      request.resume();
      response.writeHead(421, { 'content-type': 'text/plain' }).end('use http://127.0.0.1');
      return;
    }
    if (routes(request, response)) return;
    request.resume();
    notFound(response);
  });
  applyServerLimits(server, limits);
  const url = await listen(server, options.port, '127.0.0.1');
  const timer = setInterval(() => void options.collector.sample(), options.sampleEveryMs ?? 5_000);
  timer.unref();
  void options.collector.sample();
  return {
    url: `${url}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
