/**
 * @blueprint/events/transports/kafka — the `kafka` transport: Apache Kafka (2.8 or later, KRaft or
 * ZooKeeper), one topic per event name, one consumer group per subscribing service and event, an
 * idempotent producer with `acks: -1`, retries through a retry topic per group, dead letters in a
 * compacted topic. Needs `kafkajs` (an optional peer dependency, imported when the transport connects).
 *
 * @example
 * "events": { "type": "kafka", "brokers": "${KAFKA_BROKERS:-127.0.0.1:9092}", "partitions": 6 }
 */
import { transportDriver, transportFactory } from '../../transport/driver.js';
import { kafkaTransportSchema } from './options.js';
import { KafkaTransport } from './transport.js';

export { type KafkaTransportContext, type KafkaTransportOptions, kafkaTransportSchema } from './options.js';

/** The `kafka` transport's descriptor. In an app, topics and groups are prefixed `"bp.<app name>"`. */
export const kafkaTransportDriver = transportDriver('kafka', kafkaTransportSchema, KafkaTransport);

/**
 * Creates the `kafka` transport. Nothing connects until the bus connects. Throws `EVENTS_CONFIG_INVALID`
 * naming a bad option.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createKafkaTransport({ brokers: ['127.0.0.1:9092'], prefix: 'bp.shop' }),
 * });
 */
export const createKafkaTransport = transportFactory(kafkaTransportDriver, 'createKafkaTransport');
