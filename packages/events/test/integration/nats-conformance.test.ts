import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, inject } from 'vitest';
import { describeEventTransportConformance } from '../../src/testing/index.js';
import { createNatsTransport } from '../../src/transports/nats/index.js';

const url = inject('natsUrl');
let admin: NatsConnection;

beforeAll(async () => {
  admin = await connect({ servers: url });
});

afterAll(async () => {
  await admin.close();
});

describeEventTransportConformance('nats', {
  createTransport: (namespace) =>
    createNatsTransport({ url, stream: namespace, ackWait: 1_000, pullExpires: 2_000 }),
  async cleanup(namespace) {
    const jsm = await admin.jetstreamManager();
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(namespace) || name.startsWith(`KV_${namespace}_`)) await jsm.streams.delete(name);
    }
  },
  dedupesPublishedIds: true,
});
