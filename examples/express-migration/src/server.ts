/**
 * The Express app after the migration. It is still the process's entry point (`node src/server.ts`), and
 * still an Express app: Blueprint's router serves the product routes from the contract, the orders route
 * is the app's own, and one error handler answers both the same way.
 *
 *   TOPOLOGY=topology/monolith.json node --import tsx src/server.ts             # products in this process
 *   blueprint start --topology topology/split.json --process products &          # products in their own
 *   TOPOLOGY=topology/split.json PROCESS=web node --import tsx src/server.ts
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type BlueprintApp, type CreateAppOptions, createApp } from '@blueprint/core';
import { errorAnswer } from '@blueprint/http';
import { blueprintRouter } from '@blueprint/http/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { app } from './app.js';
import { openDatabase, type ShopDatabase } from './database.js';
import { ordersRouter } from './orders.js';
import { Products } from './products/contract.js';
import { routes } from './routes.js';

/** The migrated Express app over a running Blueprint process and the orders database. */
export function createServer(blueprint: BlueprintApp, orders: ShopDatabase): Express {
  const server = express();
  const api = blueprintRouter({ routes, clients: blueprint });
  server.use(api); // GET /products, GET /products/:id, GET /openapi.json
  server.use(ordersRouter(blueprint.client(Products), orders));
  server.use(api.notFound); // 404 / 405 with the error body
  server.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    const parseFailed = (error as { type?: unknown }).type === 'entity.parse.failed';
    const answer = parseFailed
      ? {
          status: 400,
          headers: {},
          body: { error: { code: 'MALFORMED_JSON', message: 'the body is not JSON' } },
        }
      : errorAnswer(error);
    if (answer.status === 500) console.error(error);
    response.status(answer.status).set(answer.headers).json(answer.body);
  });
  return server;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The topology (a file path or an object) and, when it has several, this process's name. */
  readonly topology: CreateAppOptions['topology'];
  readonly process?: string;
  /** Where the other processes are, overriding the topology's addresses (tests bind port 0). */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Environment for the topology's `${VAR}` values. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Port of the Express app. Default 3000; 0 for any free one. */
  readonly port?: number;
  /** The orders database file. Default: in memory. */
  readonly ordersDatabase?: string;
}

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly blueprint: BlueprintApp;
  /** Stops accepting, then stops the Blueprint process. */
  close(): Promise<void>;
}

/** Creates and starts the Blueprint process, then the Express app on it. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const blueprint = await createApp(app, {
    topology: options.topology,
    ...(options.process === undefined ? {} : { process: options.process }),
    ...(options.addresses === undefined ? {} : { addresses: options.addresses }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  await blueprint.start();
  const orders = openDatabase(options.ordersDatabase ?? ':memory:');
  const listening: Server = createServer(blueprint, orders).listen(options.port ?? 3000, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    listening.once('listening', resolve).once('error', reject);
  });
  const { port } = listening.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blueprint,
    async close() {
      await new Promise<void>((resolve) => {
        listening.close(() => resolve());
        listening.closeIdleConnections();
      });
      await blueprint.stop();
      orders.close();
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startServer({
    topology: process.env.TOPOLOGY ?? 'topology/monolith.json',
    ...(process.env.PROCESS === undefined ? {} : { process: process.env.PROCESS }),
    port: Number(process.env.PORT ?? 3000),
    ...(process.env.ORDERS_DATABASE === undefined ? {} : { ordersDatabase: process.env.ORDERS_DATABASE }),
  });
  console.log(`shop: listening on ${running.url} (try /products, /openapi.json)`);
  process.once('SIGTERM', () => void running.close());
  process.once('SIGINT', () => void running.close());
}
