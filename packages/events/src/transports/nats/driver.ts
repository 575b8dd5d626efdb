/**
 * The `nats` transport's descriptor, apart from its code: the topology's `events` section is checked
 * with its schema, and `./transport.js` is imported only when a topology selects `nats`.
 */
import { transportDriver } from '../../transport/driver.js';
import { natsTransportSchema } from './options.js';

/** The `nats` transport's descriptor. In an app the stream defaults to `"bp_<app name>"`. */
export const natsTransportDriver = transportDriver(
  'nats',
  natsTransportSchema,
  async () => (await import('./transport.js')).NatsTransport,
);
