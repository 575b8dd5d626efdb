import assert from 'node:assert/strict';
import { createServer } from 'node:http';

// A prices server on a free port.
const server = createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ id: 'p1', price: 49 }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
const PRICES = `http://127.0.0.1:${port}/prices`;

// #region example
import { defineApp, service } from '@blueprint/core';
import { circuitBreaker, resiliencePlugin, retry, timeout, wrap } from '@blueprint/resilience';
import { Payments, PaymentsService } from './payments.js';

// As a value, anywhere:
const prices = wrap(
  retry({ maxAttempts: 3 }),
  circuitBreaker({ name: 'prices', consecutiveFailures: 5 }),
  timeout('500ms'),
);
const price = await prices.execute(({ signal }) =>
  fetch(`${PRICES}/p1`, { signal: signal ?? null }).then((r) => r.json()),
);

// In an app: remote calls get the topology's "policies"; decorated methods get theirs.
export const app = defineApp({
  name: 'shop',
  services: [service(Payments, PaymentsService)],
  plugins: [resiliencePlugin()],
});
// #endregion example

assert.deepEqual(price, { id: 'p1', price: 49 });
prices.dispose();
server.close();
