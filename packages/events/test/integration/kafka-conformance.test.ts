/**
 * The conformance suite on the `kafka` transport, against a private Kafka broker (KRaft) started for
 * this file, and how the transport treats topics (created, or required with `createTopics: false`).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../test/harness/index.js';
import { defineEvent } from '../../src/define-event.js';
import { createEventBus } from '../../src/event-bus.js';
import { describeEventTransportConformance } from '../../src/testing/index.js';
import { createKafkaTransport } from '../../src/transports/kafka/index.js';
import { usePrivateKafka } from './support/kafka-broker.js';

const broker = usePrivateKafka();

describeEventTransportConformance('kafka', {
  createTransport: (namespace) =>
    createKafkaTransport({
      brokers: broker.server.bootstrap,
      prefix: namespace,
      partitions: 2,
      sessionTimeout: 3_000,
      heartbeatInterval: 300,
      maxWait: 200,
      publishTimeout: 3_000,
    }),
  async cleanup(namespace) {
    const topics = (await broker.admin.listTopics()).filter((topic) => topic.startsWith(`${namespace}.`));
    if (topics.length > 0) await broker.admin.deleteTopics({ topics }).catch(() => undefined);
  },
  timeout: 10_000,
});

describe('kafka transport topics', () => {
  const Ping = defineEvent('topics.ping', z.object({ n: z.number() }));
  const groups = [{ event: Ping.name, group: 'reader' }];

  it('creates missing topics with the partitions the options ask for', async () => {
    const prefix = `created${Date.now().toString(36)}`;
    const bus = createEventBus({
      transport: createKafkaTransport({ brokers: broker.server.bootstrap, prefix, partitions: 5 }),
      groups,
    });
    try {
      await bus.connect();
      await bus.publish(Ping, { n: 1 });
      const names = [`${prefix}.events.topics.ping`, `${prefix}.retry.reader.topics.ping`];
      const { topics } = await broker.admin.fetchTopicMetadata({
        topics: [...names, `${prefix}.dead-letters`],
      });
      const partitions = Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions.length]));
      expect(partitions).toEqual({ [names[0]!]: 5, [names[1]!]: 5, [`${prefix}.dead-letters`]: 1 });
    } finally {
      await bus.stop();
    }
  });

  it('with createTopics: false, refuses a missing topic naming it and creates nothing; works once they exist', async () => {
    const prefix = `required${Date.now().toString(36)}`;
    const strict = () =>
      createEventBus({
        transport: createKafkaTransport({ brokers: broker.server.bootstrap, prefix, createTopics: false }),
        groups,
      });
    const refused = strict();
    const error = await refused.connect().catch((e: unknown) => e);
    await refused.stop();
    expect(error).toMatchObject({
      code: 'EVENTS_CONFIG_INVALID',
      message: expect.stringContaining(`"${prefix}.dead-letters" does not exist and createTopics is false`),
    });
    expect((await broker.admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`))).toEqual([]);

    await broker.admin.createTopics({
      topics: [
        { topic: `${prefix}.dead-letters`, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: `${prefix}.events.topics.ping`, numPartitions: 2 },
        { topic: `${prefix}.retry.reader.topics.ping`, numPartitions: 2 },
      ],
      waitForLeaders: false,
    });
    await waitFor(
      async () =>
        (await broker.admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`)).length === 3,
      { timeout: 10_000, message: 'the three topics to be listed' },
    );
    const bus = strict();
    try {
      const seen: number[] = [];
      await bus.subscribe(Ping, (payload) => void seen.push(payload.n), { group: 'reader' });
      await bus.publish(Ping, { n: 7 });
      await waitFor(() => seen.length === 1, { timeout: 15_000, message: 'the event' });
      expect(seen).toEqual([7]);
    } finally {
      await bus.stop();
    }
  });
});
