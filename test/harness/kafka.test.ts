import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KafkaProtocolError,
  type KafkaServerHandle,
  kafkaFetch,
  kafkaMetadata,
  kafkaProduce,
  startKafka,
  waitFor,
} from './index.js';

const brokers: KafkaServerHandle[] = [];

afterAll(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
});

async function broker(options: Parameters<typeof startKafka>[0] = {}): Promise<KafkaServerHandle> {
  const started = await startKafka(options);
  brokers.push(started);
  return started;
}

/** Asks for `topic` (creating it when the broker auto-creates) until each of its partitions has a leader. */
async function topicReady(kafka: KafkaServerHandle, topic: string, partitions: number): Promise<void> {
  await waitFor(
    async () => {
      const { topics } = await kafkaMetadata(
        { port: kafka.port },
        { topics: [topic], allowAutoCreate: true },
      );
      const found = topics.find((candidate) => candidate.name === topic);
      return found?.partitions.length === partitions && found.partitions.every((p) => p.leader === 1);
    },
    { timeout: 15_000, message: `topic ${topic} with ${partitions} led partitions` },
  );
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Command lines of the processes that mention `text` (`ps`), e.g. a broker's storage dir. */
function processesMentioning(text: string): string[] {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

describe('startKafka', () => {
  it('runs a broker that keeps committed records across kill -9 and restart() on the same ports', async () => {
    const kafka = await broker({ partitions: 2, properties: { 'message.max.bytes': '4096' } });
    expect(kafka.url).toBe(`127.0.0.1:${kafka.port}`);
    expect(kafka.bootstrap).toBe(kafka.url);
    expect(kafka.dir).toMatch(/blueprint-kafka-/);
    const address = { port: kafka.port };
    expect((await kafkaMetadata(address)).clusterId).toBe(kafka.clusterId);

    await topicReady(kafka, 'orders', 2);
    const { baseOffset } = await kafkaProduce(address, 'orders', 1, [
      { key: 'order-1', value: 'placed', headers: { trace: 'abc' } },
    ]);
    expect(baseOffset).toBe(0n);
    const before = await kafkaFetch(address, 'orders', 1);
    expect(before.records.map((record) => record.value?.toString())).toEqual(['placed']);
    // properties reach server.properties: a record over message.max.bytes is refused (MESSAGE_TOO_LARGE).
    const tooLarge = kafkaProduce(address, 'orders', 0, [{ value: 'x'.repeat(8_192) }]);
    await expect(tooLarge).rejects.toSatisfy(
      (error) => error instanceof KafkaProtocolError && error.errorCode === 10,
    );

    const { port, controllerPort, pid: crashedPid } = kafka;
    await kafka.kill();
    expect(kafka.running).toBe(false);
    expect(await refused(port)).toBe(true);
    expect(processesMentioning(kafka.dir)).toEqual([]);

    await kafka.restart();
    expect(kafka.running).toBe(true);
    expect(kafka.pid).not.toBe(crashedPid);
    expect([kafka.port, kafka.controllerPort]).toEqual([port, controllerPort]);
    const { topics, clusterId } = await kafkaMetadata(address, { topics: ['orders'] });
    expect(clusterId).toBe(kafka.clusterId);
    expect(topics[0]?.partitions.map((partition) => partition.leader)).toEqual([1, 1]);
    const after = await kafkaFetch(address, 'orders', 1);
    expect(after.records).toHaveLength(1);
    expect(after.records[0]?.key?.toString()).toBe('order-1');
    expect(after.records[0]?.value?.toString()).toBe('placed');
    expect(after.records[0]?.headers.map(([name, value]) => [name, value?.toString()])).toEqual([
      ['trace', 'abc'],
    ]);

    await kafka.stop();
    expect(kafka.running).toBe(false);
    expect(processesMentioning(kafka.dir)).toEqual([]);
    expect(existsSync(kafka.dir)).toBe(false);
    expect(await refused(port)).toBe(true);
  });

  it('creates no topics with autoCreateTopics: false, and keeps a given dir for the next broker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'blueprint-kafka-given-'));
    try {
      const first = await broker({ dir, autoCreateTopics: false });
      const metadata = () =>
        kafkaMetadata({ port: first.port }, { topics: ['missing'], allowAutoCreate: true });
      expect((await metadata()).topics[0]?.errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
      expect((await metadata()).topics[0]?.errorCode).toBe(3);
      await first.stop();
      expect(existsSync(join(dir, 'data', 'meta.properties'))).toBe(true);

      const second = await broker({ dir });
      expect(second.clusterId).toBe(first.clusterId);
      expect((await kafkaMetadata({ port: second.port })).clusterId).toBe(first.clusterId);
      await second.stop();
      expect(processesMentioning(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the broker output when the broker cannot start', async () => {
    const start = startKafka({ properties: { 'num.partitions': 'many' } });
    await expect(start).rejects.toThrow(/num\.partitions/);
  });
});
