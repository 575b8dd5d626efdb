/**
 * @blueprint/events/transports/nats — the `nats` transport: NATS JetStream (nats-server 2.9+ with `-js`),
 * one stream per app, a durable pull consumer per group and event, explicit acks, retries with a
 * delayed NAK, dead letters and the inbox in KV buckets. Needs `nats` (an optional peer dependency,
 * imported when the transport connects).
 *
 * @example
 * "events": { "type": "nats", "url": "${NATS_URL:-nats://127.0.0.1:4222}", "ackWait": "30s" }
 */
import { transportFactory } from '../../transport/driver.js';
import { natsTransportDriver } from './driver.js';
import { NatsTransport } from './transport.js';

export { natsTransportDriver } from './driver.js';
export { type NatsTransportContext, type NatsTransportOptions, natsTransportSchema } from './options.js';

/**
 * Creates the `nats` transport (NATS JetStream). Nothing connects until the bus connects. Throws
 * `EVENTS_CONFIG_INVALID` naming a bad option.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createNatsTransport({ url: 'nats://127.0.0.1:4222', stream: 'bp_shop', ackWait: '30s' }),
 * });
 */
export const createNatsTransport = transportFactory(
  natsTransportDriver,
  NatsTransport,
  'createNatsTransport',
);
