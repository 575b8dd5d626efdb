// #region nats
import { createEventBus } from '@blueprint/events';
import { createNatsTransport } from '@blueprint/events/transports/nats';

const bus = createEventBus({
  transport: createNatsTransport({
    url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    stream: 'bp_billing',
    ackWait: '30s',
  }),
});
await bus.subscribe(OrderPlaced, (order) => charge(order), { group: 'billing', inbox: true });
await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 });

// #endregion nats

import { waitFor } from '@blueprint/core/testing';
import { charge, charged, OrderPlaced } from './billing.js';

await waitFor(() => charged.get('o1') === 42);
// #region nats
await bus.stop();
// #endregion nats
