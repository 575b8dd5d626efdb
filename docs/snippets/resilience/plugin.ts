import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as blueprint from '@blueprint/core';

// #region plugin
import { defineApp, service } from '@blueprint/core';
import { resiliencePlugin } from '@blueprint/resilience';
import { Recommendations, RecommendationsService } from './recommendations.js';

export const app = defineApp({
  name: 'shop',
  services: [service(Recommendations, RecommendationsService)],
  plugins: [resiliencePlugin({ fallbacks: { 'recommendations.forUser': () => [] } })],
});
// #endregion plugin

// The recommendations process is down (nothing listens on its port): the caller gets the fallback.
const closed = createServer();
await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
const port = (closed.address() as { port: number }).port;
await new Promise<void>((resolve) => closed.close(() => resolve()));
const front = await blueprint.createApp(app, {
  topology: {
    app: 'src/app.ts',
    rpc: { type: 'http' },
    auth: 'none',
    processes: {
      recs: { services: ['recommendations'], address: `http://127.0.0.1:${port}` },
      front: { services: [] },
    },
  },
  process: 'front',
});
await front.start();
assert.deepEqual(await front.client(Recommendations).forUser({ userId: 'u1' }), []);
await front.stop();
