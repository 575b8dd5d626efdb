import { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { describeEventTransportConformance } from '../../src/testing/index.js';
import { createRedisStreamsTransport } from '../../src/transports/redis-streams/index.js';

const url = inject('redisUrl');
const admin = new Redis(url, { lazyConnect: true });

afterAll(async () => {
  await admin.quit();
});

describeEventTransportConformance('redis-streams', {
  createTransport: (namespace) =>
    createRedisStreamsTransport({
      url,
      prefix: `test:${namespace}`,
      block: 1_000,
      claimInterval: 200,
      visibilityTimeout: 1_000,
      trimInterval: 200,
    }),
  async cleanup(namespace) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `test:${namespace}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  },
});
