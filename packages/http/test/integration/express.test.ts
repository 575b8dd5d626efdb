/**
 * The Express 5 adapter against the shared test table, mounted in an Express app over a real socket.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { blueprintRouter } from '../../src/express/index.js';
import { describeEdgeConformance } from '../../src/testing/index.js';
import { fetchEdge } from './support.js';

describeEdgeConformance('express', async ({ app, routes, options }) => {
  const server = express();
  const api = blueprintRouter({ routes, clients: app, ...options });
  server.use(api);
  server.use(api.notFound);
  const listening = server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => listening.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  return {
    baseUrl,
    request: fetchEdge(baseUrl),
    close: () =>
      new Promise<void>((resolve) => {
        listening.closeAllConnections();
        listening.close(() => resolve());
      }),
  };
});
