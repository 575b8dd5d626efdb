/**
 * The conformance suite on the `kafka` transport, against a private Kafka broker (KRaft) started for
 * this file.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { type KafkaServerHandle, startKafka } from '../../../../test/harness/index.js';
import { describeEventTransportConformance } from '../../src/testing/index.js';
import { createKafkaTransport } from '../../src/transports/kafka/index.js';

let kafka: KafkaServerHandle;
let admin: Admin;

beforeAll(async () => {
  kafka = await startKafka();
  admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await kafka?.stop();
});

describeEventTransportConformance('kafka', {
  createTransport: (namespace) =>
    createKafkaTransport({
      brokers: kafka.bootstrap,
      prefix: namespace,
      partitions: 2,
      sessionTimeout: 3_000,
      heartbeatInterval: 300,
      maxWait: 200,
      publishTimeout: 3_000,
    }),
  async cleanup(namespace) {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${namespace}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  },
  timeout: 10_000,
});
