/**
 * Events on NATS JetStream: the `nats` transport end to end (publisher and consumer in their own processes,
 * one local nats-server with file storage) against raw nats.js JetStream (acked `js.publish`, a pull consumer
 * with `consume()` and `ack()`), in throughput and in publish→handle latency at a steady 1,000 events/s.
 */
import { startNats } from '../test/harness/index.js';
import { IN_FLIGHT, latencyRow, measureBrokerEndToEnd, throughputRow } from './fixtures/broker-e2e.js';
import { formatTable, percentile, printSection, progress, section } from './lib.js';

const E2E = 8_000;
const ROUNDS = 2;

progress('nats: starting the broker and workers');
const nats = await startNats();
const result = await measureBrokerEndToEnd({
  name: 'nats',
  worker: new URL('./fixtures/events-nats-worker.ts', import.meta.url),
  args: [nats.url],
  events: E2E,
  rounds: ROUNDS,
});
await nats.stop();
const { rawLatency, busLatency, ratio } = result;
const busP99 = percentile(busLatency, 99);
printSection(
  section(
    'events: nats (JetStream) end to end vs raw nats.js JetStream',
    `What is measured: a publisher process and a consumer process on one local nats-server 2.9 (JetStream, file storage, interest retention on both sides). Throughput: ${E2E.toLocaleString('en')} events per round, ${IN_FLIGHT} acked publishes in flight (bus: \`bus.publish\` → zod validation, UUID v7 id, envelope, \`js.publish\` with \`msgID\` = event id; raw: \`js.publish\` of the JSON payload), from the first publish to the consumer having handled the last (bus: pull requests sized to 256 handler slots, decode, zod parse, handler, \`+ACK\`; raw: \`consumer.consume({ max_messages: 256 })\`, JSON decode, \`ack()\`); the publish rate is the publisher's alone; CPU per event is each process's user + system time over the round (less sensitive to other load on this shared machine than rates). ${ROUNDS} interleaved rounds after a warm-up, medians. Latency: one event per millisecond for 2 s, publish→handler entry, measured across the processes on one clock.`,
    formatTable([
      throughputRow('raw nats.js: js.publish → consume/ack', result.raw, 1, '—', undefined),
      throughputRow('bus.publish → nats transport consumer', result.bus, ratio, '≥ 0.5× raw', ratio >= 0.5),
    ]) +
      '\n\n' +
      formatTable([
        latencyRow('raw: js.publish → consume', rawLatency, rawLatency, '—', undefined),
        latencyRow('bus: publish → handler (nats)', busLatency, rawLatency, 'p99 < 2 ms', busP99 < 2_000),
      ]),
    [
      'Issue reference figures on this machine: raw acked publish about 43k/s at 64 in flight; raw publish→consumer p50 about 136 µs. The targets are the ones the issue sets for redis-streams ("likewise"): at least 0.5× raw end to end, p99 under 2 ms at 1,000 events/s.',
      'Every acked publish is one JetStream round trip on both sides, so end-to-end throughput is bounded by the publisher (the two rates are equal); the bus adds validation, the envelope and the `Nats-Msg-Id` header (deduplication), the consumer adds decoding, validation and explicit acks. The ratio is the median of per-round ratios.',
    ],
  ),
);
