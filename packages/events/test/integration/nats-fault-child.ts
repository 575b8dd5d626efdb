/**
 * A consumer replica in its own process, for the kill -9 fault test: it subscribes a group and reports
 * every handler start to its parent over IPC; its handlers never finish, so whatever it took is only
 * handled if another replica gets it after this process dies.
 *
 * argv: <natsUrl> <stream> <group> <concurrency> <ackWaitMs>
 */
import { z } from 'zod';
import { defineEvent } from '../../src/define-event.js';
import { createEventBus } from '../../src/event-bus.js';
import { createNatsTransport } from '../../src/transports/nats/index.js';

const [url, stream, group, concurrency, ackWait] = process.argv.slice(2);
const Job = defineEvent('fault.job', z.object({ n: z.number() }));
const bus = createEventBus({
  transport: createNatsTransport({ url: url!, stream: stream!, ackWait: Number(ackWait) }),
});
await bus.subscribe(
  Job,
  (_payload, meta) => {
    process.send?.({ type: 'started', id: meta.id, attempt: meta.attempt });
    return new Promise(() => undefined);
  },
  { group: group!, concurrency: Number(concurrency) },
);
process.send?.({ type: 'ready' });
process.on('disconnect', () => process.exit(0));
