/**
 * @blueprint/events/transports/kafka — the `kafka` transport: Apache Kafka (2.8 or later, KRaft or
 * ZooKeeper), one topic per event name, one consumer group per subscribing service and event, an
 * idempotent producer with `acks: -1`, retries through a retry topic per group, dead letters in a
 * compacted topic. Needs `kafkajs` (an optional peer dependency, imported when the transport connects).
 *
 * @example
 * "events": { "type": "kafka", "brokers": "${KAFKA_BROKERS:-127.0.0.1:9092}", "partitions": 6 }
 */
import { transportFactory } from '../../transport/driver.js';
import { kafkaTransportDriver } from './driver.js';
import { KafkaTransport } from './transport.js';

export { kafkaTransportDriver } from './driver.js';
export { type KafkaTransportContext, type KafkaTransportOptions, kafkaTransportSchema } from './options.js';

/**
 * Creates the `kafka` transport. Nothing connects until the bus connects. Throws `EVENTS_CONFIG_INVALID`
 * naming a bad option.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createKafkaTransport({ brokers: ['127.0.0.1:9092'], prefix: 'bp.shop' }),
 * });
 */
export const createKafkaTransport = transportFactory(
  kafkaTransportDriver,
  KafkaTransport,
  'createKafkaTransport',
);
