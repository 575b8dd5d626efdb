/**
 * @blueprint/events/transports/redis-streams — the `redis-streams` transport: one stream per event
 * name, one consumer group per subscribing service, retries through a delayed set, dead letters in a
 * hash. Needs `ioredis` (an optional peer dependency, imported when the transport connects).
 *
 * @example
 * "events": { "type": "redis-streams", "url": "${EVENTS_REDIS_URL:-redis://127.0.0.1:6379}" }
 */
import { transportFactory } from '../../transport/driver.js';
import { redisStreamsTransportDriver } from './driver.js';
import { RedisStreamsTransport } from './transport.js';

export { redisStreamsTransportDriver } from './driver.js';
export {
  type RedisStreamsTransportContext,
  type RedisStreamsTransportOptions,
  redisStreamsTransportSchema,
} from './options.js';

/**
 * Creates the `redis-streams` transport. Nothing connects until the bus connects. Throws
 * `EVENTS_CONFIG_INVALID` naming a bad option.
 *
 * @example
 * const bus = createEventBus({
 *   transport: createRedisStreamsTransport({ url: 'redis://127.0.0.1:6379', prefix: 'bp:shop', visibilityTimeout: '30s' }),
 * });
 */
export const createRedisStreamsTransport = transportFactory(
  redisStreamsTransportDriver,
  RedisStreamsTransport,
  'createRedisStreamsTransport',
);
