/**
 * A consumer replica in its own process, for the kafka kill -9 fault test: it subscribes a group and
 * reports every handler start to its parent over IPC; its handlers never finish, so whatever it took is
 * only handled if another replica gets its partitions after this process dies.
 *
 * argv: <brokers> <prefix> <group> <concurrency> <sessionTimeoutMs>
 */
import { z } from 'zod';
import { defineEvent } from '../../src/define-event.js';
import { createEventBus } from '../../src/event-bus.js';
import { createKafkaTransport } from '../../src/transports/kafka/index.js';

const [brokers, prefix, group, concurrency, sessionTimeout] = process.argv.slice(2);
const Job = defineEvent('fault.job', z.object({ n: z.number() }));
const bus = createEventBus({
  transport: createKafkaTransport({
    brokers: brokers!,
    prefix: prefix!,
    partitions: 4,
    sessionTimeout: Number(sessionTimeout),
    heartbeatInterval: 300,
    maxWait: 200,
  }),
});
await bus.subscribe(
  Job,
  (_payload, meta) => {
    process.send?.({ type: 'started', id: meta.id });
    return new Promise(() => undefined);
  },
  { group: group!, concurrency: Number(concurrency) },
);
process.send?.({ type: 'ready' });
process.on('disconnect', () => process.exit(0));
