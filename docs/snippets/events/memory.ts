// #region memory
import { createEventBus } from '@blueprint/events';
import { createMemoryTransport } from '@blueprint/events/transports/memory';

const bus = createEventBus({ transport: createMemoryTransport({ maxQueue: 1000, onFull: 'fail' }) });

// #endregion memory

import assert from 'node:assert/strict';
import { OrderPlaced } from './billing.js';

assert.equal(typeof (await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 })), 'string');
await bus.stop();
