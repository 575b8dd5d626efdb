/** The kafka transport's options: one schema for the topology section and for code. */
import { describe, expect, it } from 'vitest';
import { createKafkaTransport, kafkaTransportSchema } from './index.js';

describe('kafka options', () => {
  it('fills in the defaults and takes brokers as a comma list or an array', () => {
    const parsed = kafkaTransportSchema.parse({ type: 'kafka' });
    expect(parsed).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      createTopics: true,
      partitions: 3,
      replicationFactor: -1,
      sessionTimeout: 30_000,
      publishTimeout: 5_000,
    });
    expect(kafkaTransportSchema.parse({ type: 'kafka', brokers: ' a:1, kafka://b:2 ,c:3' }).brokers).toEqual([
      'a:1',
      'b:2',
      'c:3',
    ]);
    expect(kafkaTransportSchema.parse({ type: 'kafka', brokers: ['a:1', 'b:2'] }).brokers).toEqual([
      'a:1',
      'b:2',
    ]);
    expect(
      kafkaTransportSchema.parse({ type: 'kafka', partitions: '6', sessionTimeout: '10s' }),
    ).toMatchObject({ partitions: 6, sessionTimeout: 10_000 });
  });

  it('refuses bad values naming the option and the fix', () => {
    const issue = (options: object) =>
      kafkaTransportSchema.safeParse({ type: 'kafka', ...options }).error?.issues[0];
    expect(issue({ brokers: 'http://a:1' })?.message).toMatch(
      /invalid Kafka broker "http:\/\/a:1": use host:port/,
    );
    expect(issue({ brokers: '' })?.message).toMatch(/invalid Kafka broker/);
    expect(issue({ partitions: 0 })?.message).toMatch(/invalid partitions 0: use a whole number >= 1, or -1/);
    expect(issue({ prefix: 'bp shop' })?.path).toEqual(['prefix']);
    expect(issue({ sessionTimeout: '500ms' })?.message).toMatch(/at least "1s"/);
    expect(issue({ sessionTimeout: '3s', heartbeatInterval: '3s' })).toMatchObject({
      path: ['heartbeatInterval'],
      message: expect.stringMatching(/must be below sessionTimeout/),
    });
    expect(issue({ url: 'kafka://a:1' })?.code).toBe('unrecognized_keys');
  });

  it('refuses bad options in code with EVENTS_CONFIG_INVALID, and connects nothing when made', () => {
    expect(() => createKafkaTransport({ partitions: -2 })).toThrow(
      expect.objectContaining({ code: 'EVENTS_CONFIG_INVALID' }),
    );
    const transport = createKafkaTransport({ brokers: '127.0.0.1:1' });
    expect(transport.type).toBe('kafka');
  });
});
