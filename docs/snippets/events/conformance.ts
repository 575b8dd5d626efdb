// #region suite
import { describeEventTransportConformance } from '@blueprint/events/testing';
import { createRedisStreamsTransport } from '@blueprint/events/transports/redis-streams';
import { Redis } from 'ioredis';

describeEventTransportConformance('redis-streams', {
  createTransport: (namespace) =>
    createRedisStreamsTransport({ url, prefix: namespace, claimInterval: 200, visibilityTimeout: 1000 }),
  cleanup: async (namespace) => {
    const redis = new Redis(url);
    const keys = await redis.keys(`${namespace}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  },
});
// #endregion suite

/** The Redis the suite runs against (the setup runs later, when vitest runs the suite). */
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
