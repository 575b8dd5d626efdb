/**
 * A private Kafka broker (KRaft) for one test file, with an admin client: started before the file's
 * tests, stopped after them.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { type KafkaServerHandle, startKafka } from '../../../../../test/harness/index.js';

/** The broker and admin client of {@link usePrivateKafka}; read them inside tests and hooks. */
export interface PrivateKafka {
  readonly server: KafkaServerHandle;
  readonly admin: Admin;
}

/** Registers the hooks that start a private broker for this file and stop it afterwards. */
export function usePrivateKafka(): PrivateKafka {
  let server: KafkaServerHandle | undefined;
  let admin: Admin | undefined;
  beforeAll(async () => {
    server = await startKafka();
    admin = new Kafka({ brokers: [server.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the private Kafka broker is not started yet');
      return server;
    },
    get admin() {
      if (!admin) throw new Error('the private Kafka broker is not started yet');
      return admin;
    },
  };
}
