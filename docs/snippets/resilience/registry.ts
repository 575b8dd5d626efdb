import assert from 'node:assert/strict';
import { createApp, defineApp, service } from '@blueprint/core';
import { ResilienceTokens, resiliencePlugin } from '@blueprint/resilience';
import { Payments, PaymentsService } from './payments.js';

const alerts: string[] = [];
const alert = (text: string) => alerts.push(text);
const app = await createApp(
  defineApp({ name: 'shop', services: [service(Payments, PaymentsService)], plugins: [resiliencePlugin()] }),
  {
    topology: {
      app: 'src/app.ts',
      rpc: { type: 'http' },
      auth: 'none',
      processes: { pay: { services: ['payments'], address: 'http://127.0.0.1:9' }, orders: { services: [] } },
    },
    process: 'orders',
  },
);

// #region registry
const registry = app.resolve(ResilienceTokens.BreakerRegistry);
registry.snapshot(); // [{ name: 'payments', state: 'open', calls, failures, rejected, retryAfterMs, lastFailure, ... }]
registry.get('payments')?.state;
registry.onStateChange(({ breaker, from, to }) => alert(`${breaker}: ${from} → ${to}`));
// #endregion registry

assert.deepEqual(
  registry.snapshot().map((stats) => stats.name),
  ['payments'],
);
assert.equal(registry.get('payments')?.state, 'closed');
await app.stop();
