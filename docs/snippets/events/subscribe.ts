import assert from 'node:assert/strict';
import { createEventBus } from '@blueprint/events';
import { createMemoryTransport } from '@blueprint/events/transports/memory';
import { charge, charged, OrderPlaced } from './billing.js';

const bus = createEventBus({ transport: createMemoryTransport() });
const seen: string[] = [];

// #region subscribe
const subscription = await bus.subscribe(
  OrderPlaced,
  async (order, meta) => {
    seen.push(meta.id);
    await charge(order);
  },
  { group: 'billing', maxAttempts: 3 },
);
// #endregion subscribe
const id = await bus.publish(OrderPlaced, { orderId: 'o-sub', total: 7 });
// #region subscribe
await subscription.stop(); // drain this one
// #endregion subscribe
assert.deepEqual(seen, [id]);
assert.equal(charged.get('o-sub'), 7);
await bus.stop();
