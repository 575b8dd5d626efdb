import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_TRANSPORTS,
  eventsSectionSchema,
  handlerDefaultsFromConfig,
  transportFromConfig,
} from './config.js';

const context = { appName: 'shop', onError: () => undefined };
const schema = eventsSectionSchema();

describe('the events section', () => {
  it('parses durations and fills in the transport defaults from its schema, and no bus default', () => {
    const config = schema.parse({
      type: 'redis-streams',
      url: 'redis://127.0.0.1:6379',
      visibilityTimeout: '45s',
      backoff: { initial: '1s' },
      maxAttempts: '3',
    });
    expect(config).toEqual({
      type: 'redis-streams',
      url: 'redis://127.0.0.1:6379',
      visibilityTimeout: 45_000,
      backoff: { initial: 1_000 },
      maxAttempts: 3,
      maxLen: 100_000,
      trim: 'safe',
      trimInterval: 1_000,
      block: 5_000,
      count: 100,
      claimInterval: 5_000,
      publishTimeout: 2_000,
      connectTimeout: 5_000,
      staleConsumerAfter: 3_600_000,
    });
    expect(handlerDefaultsFromConfig(config)).toEqual({ maxAttempts: 3, backoff: { initial: 1_000 } });
  });

  it('takes a backoff list as handler defaults', () => {
    const config = schema.parse({ type: 'memory', backoff: ['1s', '5s'] });
    expect(handlerDefaultsFromConfig(config)).toEqual({ backoff: [1_000, 5_000] });
  });

  it('builds the transport its type names, without connecting', async () => {
    const memory = await transportFromConfig(
      BUILT_IN_TRANSPORTS,
      schema.parse({ type: 'memory', maxQueue: 5 }),
      context,
    );
    expect(memory.type).toBe('memory');
    const redis = await transportFromConfig(
      BUILT_IN_TRANSPORTS,
      schema.parse({ type: 'redis-streams', url: 'redis://127.0.0.1:1' }),
      context,
    );
    expect(redis.type).toBe('redis-streams');
    expect(await redis.health()).toMatchObject({ ok: false, details: { status: 'not connected' } });
    await Promise.all([memory.close(), redis.close()]);
  });

  it('refuses a visibility timeout that is not above the claim interval', () => {
    const result = schema.safeParse({
      type: 'redis-streams',
      url: 'redis://x:1',
      visibilityTimeout: '1s',
      claimInterval: '2s',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['visibilityTimeout'],
        message: expect.stringMatching(/must be longer than claimInterval/),
      }),
    ]);
  });

  it('refuses zero attempts, unknown keys and unknown types, listing the registered ones', () => {
    expect(schema.safeParse({ type: 'memory', maxAttempts: 0 }).success).toBe(false);
    expect(schema.safeParse({ type: 'memory', url: 'redis://x' }).success).toBe(false);
    expect(schema.safeParse({ type: 'rabbitmq' }).error?.issues[0]?.message).toBe(
      'unknown event transport "rabbitmq"; allowed: memory, redis-streams, nats, kafka',
    );
  });
});
