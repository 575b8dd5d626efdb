import { describe, expect, it } from 'vitest';
import { createTransportFromConfig, eventsSectionSchema, handlerDefaultsFromConfig } from './config.js';

const context = { appName: 'shop', onError: () => undefined };

describe('the events section', () => {
  it('parses durations and fills nothing it was not given', () => {
    const config = eventsSectionSchema.parse({
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
    });
    expect(handlerDefaultsFromConfig(config)).toEqual({ maxAttempts: 3, backoff: { initial: 1_000 } });
  });

  it('builds the transport its type names, without connecting', async () => {
    const memory = createTransportFromConfig(
      eventsSectionSchema.parse({ type: 'memory', maxQueue: 5 }),
      context,
    );
    expect(memory.kind).toBe('memory');
    const redis = createTransportFromConfig(
      eventsSectionSchema.parse({ type: 'redis-streams', url: 'redis://127.0.0.1:1' }),
      context,
    );
    expect(redis.kind).toBe('redis-streams');
    expect(await redis.health()).toMatchObject({ ok: false, details: { status: 'not connected' } });
    await Promise.all([memory.close(), redis.close()]);
  });

  it('refuses a visibility timeout that is not above the claim interval', () => {
    const config = eventsSectionSchema.parse({
      type: 'redis-streams',
      url: 'redis://x:1',
      visibilityTimeout: '1s',
      claimInterval: '2s',
    });
    expect(() => createTransportFromConfig(config, context)).toThrow(/must be longer than claimInterval/);
  });

  it('refuses zero attempts and unknown keys', () => {
    expect(eventsSectionSchema.safeParse({ type: 'memory', maxAttempts: 0 }).success).toBe(false);
    expect(eventsSectionSchema.safeParse({ type: 'memory', url: 'redis://x' }).success).toBe(false);
  });
});
