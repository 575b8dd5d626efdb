/**
 * The Fastify adapter against the shared test table, over a real socket.
 */
import Fastify from 'fastify';
import { blueprintFastify, blueprintFastifyOptions } from '../../src/fastify/index.js';
import { describeEdgeConformance } from '../../src/testing/index.js';
import { fetchEdge } from './support.js';

describeEdgeConformance('fastify', async ({ app, routes, options }) => {
  const server = Fastify(blueprintFastifyOptions());
  await server.register(blueprintFastify, { routes, clients: app, ...options });
  const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    baseUrl,
    request: fetchEdge(baseUrl),
    close: async () => {
      const closing = server.close();
      server.server.closeAllConnections();
      await closing;
    },
  };
});
