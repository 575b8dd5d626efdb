// #region kafka
import { createEventBus } from '@blueprint/events';
import { createKafkaTransport } from '@blueprint/events/transports/kafka';

const bus = createEventBus({
  transport: createKafkaTransport({ brokers: ['127.0.0.1:9092'], prefix: 'bp.shop', partitions: 6 }),
});
await bus.subscribe(OrderPlaced, (order) => charge(order), { group: 'billing', inbox: true });
await bus.publish(OrderPlaced, { orderId: 'o1', total: 42 }, { key: 'o1' });
await bus.stop();

// #endregion kafka

import { charge, OrderPlaced } from './billing.js';
