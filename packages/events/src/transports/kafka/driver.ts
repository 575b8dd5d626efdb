/**
 * The `kafka` transport's descriptor, apart from its code: the topology's `events` section is checked
 * with its schema, and `./transport.js` is imported only when a topology selects `kafka`.
 */
import { transportDriver } from '../../transport/driver.js';
import { kafkaTransportSchema } from './options.js';

/** The `kafka` transport's descriptor. In an app, topics and groups are prefixed `"bp.<app name>"`. */
export const kafkaTransportDriver = transportDriver(
  'kafka',
  kafkaTransportSchema,
  async () => (await import('./transport.js')).KafkaTransport,
);
