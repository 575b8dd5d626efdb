/**
 * Local contract calls: what a call to a service hosted in the same process costs, with validation off
 * and on, observability off and on (the defaults: metrics of local calls), against a direct method call
 * on the implementation; then what the request context adds once an edge has set one.
 */
import { createApp, runWithRequestContext } from '@blueprint/core';
import { Echo, EchoService, echoApp, OBSERVABILITY_OFF, sampleProduct } from './fixtures/echo-app.js';
import {
  compareAsync,
  formatNs,
  formatTable,
  printSection,
  progress,
  resultRow,
  section,
  verdict,
} from './lib.js';

/** `observability`: the topology's section, or `'defaults'` for none (everything on). */
async function localClient(rpc: Record<string, unknown>, observability: unknown = OBSERVABILITY_OFF) {
  const app = await createApp(echoApp, {
    topology: {
      app: 'bench',
      rpc: { type: 'local', ...rpc },
      ...(observability === 'defaults' ? {} : { observability }),
      processes: { main: { services: ['echo'] } },
    },
  });
  await app.start();
  return { app, client: app.client(Echo) };
}

const direct = new EchoService();
const off = await localClient({ validate: { input: false, output: false } });
const on = await localClient({ validate: { input: true, output: true } });
const serialized = await localClient({ serialize: true });
const observed = await localClient({ validate: { input: true, output: true } }, 'defaults');
const [input, schema] = [sampleProduct, Echo.methods.echoProduct.input];
const offClient = off.client;
const onClient = on.client;
const serializedClient = serialized.client;
const observedClient = observed.client;

progress('local calls: direct vs validation off / on / serialize');
const r = await compareAsync(
  {
    direct: () => direct.echoProduct(input),
    floor: async () => schema.safeParse(schema.safeParse(input).data).data,
    off: () => offClient.echoProduct(input),
    on: () => onClient.echoProduct(input),
    observed: () => observedClient.echoProduct(input),
    serialize: () => serializedClient.echoProduct(input),
  },
  { timeMs: 800, rounds: 8 },
);

// The request context's storage is created by the first request that enters the process; from then on
// every promise of the process pays Node 20's async hooks. Measured after the first runs, apart.
progress('request context: inside a request vs outside, once the storage exists');
const request = { deadline: Date.now() + 3_600_000, headers: { 'x-correlation-id': 'bench' } };
const withContext = await runWithRequestContext(request, () =>
  compareAsync(
    {
      direct: () => direct.echoProduct(input),
      on: () => onClient.echoProduct(input),
    },
    { timeMs: 800, rounds: 8 },
  ),
);
const outside = await compareAsync(
  { direct: () => direct.echoProduct(input), on: () => onClient.echoProduct(input) },
  { timeMs: 800, rounds: 8 },
);
const onFloor = r.on!.ratio! / r.floor!.ratio!;

const offRatio = r.off!.ratio!;
const onNs = r.on!.p50Ns;
const identity = (offClient as unknown) instanceof EchoService;

printSection(
  section(
    'Core: local contract calls',
    `What is measured: \`await client.echo(item)\` on a service hosted in the same process (an async method returning its input, a nested 6-field product object), in interleaved rounds with a direct \`await instance.echo(item)\` on the implementation as the baseline. ns per call; p50/p99 are of batch means.`,
    formatTable([
      resultRow('direct call on the instance (baseline)', r.direct!),
      resultRow('contract call, validation off', r.off!, {
        target: '≤ 1.1x',
        met: Math.round(offRatio * 100) / 100 <= 1.1,
      }),
      resultRow('contract call, input + output validation (ratio: ÷ the two parses)', r.on!, {
        target: '≤ 1.2x two zod parses',
        met: onFloor <= 1.2,
        ratio: `${onFloor.toFixed(2)}x`,
      }),
      resultRow('contract call, validation + default observability (local-call metrics)', r.observed!),
      resultRow('contract call, `serialize: true` (+ validation)', r.serialize!, {
        target: '≤ 2 µs',
        met: r.serialize!.p50Ns <= 2_000,
      }),
      resultRow('floor: two zod `Product.safeParse` of the payload (same loop)', r.floor!),
    ]),
    [
      `With validation off the client ${identity ? 'is' : 'is not'} the implementation instance itself (no proxy): the call is a plain method call.`,
      `Verdicts: the ratio is the median of per-round ratios of median batches; the absolute target is checked on the p50 (median 200 µs batch), which a batch preempted by another process on this shared machine does not move. Mean and ops/s include every pause.`,
      `Validation adds ${formatNs(onNs - r.direct!.p50Ns)} per call (p50) over the direct call: two zod parses (input and output: ${formatNs(r.floor!.p50Ns)} for both, the floor row, in the same awaited loop) and a promise chain.`,
      `\`serialize: true\` round-trips input, output and errors through the codec (JSON with tags), as a remote call would; plain JSON values are copied as decoding their text would give.`,
      `Default observability (metrics of local calls, tallied in plain numbers) adds ${formatNs(r.observed!.p50Ns - r.on!.p50Ns)} per validated call (p50).`,
      `The request context: a validated call made inside a request (the storage set, as an edge or the RPC server sets it) costs ${formatNs(withContext.on!.p50Ns - withContext.direct!.p50Ns)} over a direct call made in the same request, against ${formatNs(outside.on!.p50Ns - outside.direct!.p50Ns)} outside one: ${formatNs(withContext.on!.p50Ns - withContext.direct!.p50Ns - (outside.on!.p50Ns - outside.direct!.p50Ns))} added per call (target < 100 ns: ${verdict(withContext.on!.p50Ns - withContext.direct!.p50Ns - (outside.on!.p50Ns - outside.direct!.p50Ns) < 100)}). Once the storage exists, a direct call inside a request costs ${formatNs(withContext.direct!.p50Ns)} vs ${formatNs(r.direct!.p50Ns)} before any request (Node 20's async hooks on every promise).`,
    ],
  ),
);

await Promise.all([off.app.stop(), on.app.stop(), serialized.app.stop(), observed.app.stop()]);
