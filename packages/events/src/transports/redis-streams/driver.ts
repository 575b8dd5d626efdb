/**
 * The `redis-streams` transport's descriptor, apart from its code: the topology's `events` section is checked
 * with its schema, and `./transport.js` is imported only when a topology selects `redis-streams`.
 */
import { transportDriver } from '../../transport/driver.js';
import { redisStreamsTransportSchema } from './options.js';

/** The `redis-streams` transport's descriptor. In an app the key prefix defaults to `"bp:<app name>"`. */
export const redisStreamsTransportDriver = transportDriver(
  'redis-streams',
  redisStreamsTransportSchema,
  async () => (await import('./transport.js')).RedisStreamsTransport,
);
