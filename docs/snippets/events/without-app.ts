const warnings: unknown[] = [];
const log = { warn: (fields: object, message: string) => warnings.push({ ...fields, message }) };
const handled: string[] = [];
const handle = async (order: { orderId: string }) => {
  handled.push(order.orderId);
};

// #region bus
import { createEventBus } from '@blueprint/events';
import { createRedisStreamsTransport } from '@blueprint/events/transports/redis-streams';

const bus = createEventBus({
  transport: createRedisStreamsTransport({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: 'bp:billing',
  }),
  groups: [{ event: 'order.placed', group: 'billing' }], // declared on connect
  defaults: { maxAttempts: 3 },
  onError: (error, context) => log.warn({ error, ...context }, 'events'),
});
await bus.subscribe(OrderPlaced, handle, { group: 'billing' });
await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 });

// #endregion bus

import assert from 'node:assert/strict';
import { waitFor } from '@blueprint/core/testing';
import { OrderPlaced } from './billing.js';

await waitFor(() => handled.includes('o1'));
// #region bus
await bus.stop();
// #endregion bus
assert.deepEqual(warnings, []);
