/**
 * Local contract calls: what a call to a service hosted in the same process costs, with validation off
 * and on, observability off and on (the defaults: metrics of local calls), against a direct method call
 * on the implementation; then what the request context adds once an edge has set one.
 */
import { createApp, runWithRequestContext } from '@blueprint/core';
import { Echo, EchoService, echoApp, Item, OBSERVABILITY_OFF, sampleItem } from './fixtures/echo-app.js';
import {
  compareAsync,
  formatNs,
  formatTable,
  measureSync,
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
const input = sampleItem;
const offClient = off.client;
const onClient = on.client;
const serializedClient = serialized.client;
const observedClient = observed.client;

progress('local calls: direct vs validation off / on / serialize');
const r = await compareAsync(
  {
    direct: () => direct.echo(input),
    off: () => offClient.echo(input),
    on: () => onClient.echo(input),
    observed: () => observedClient.echo(input),
    serialize: () => serializedClient.echo(input),
  },
  { timeMs: 1_500, rounds: 10 },
);

// The request context's storage is created by the first request that enters the process; from then on
// every promise of the process pays Node 20's async hooks. Measured after the first runs, apart.
progress('request context: inside a request vs outside, once the storage exists');
const request = { deadline: Date.now() + 3_600_000, headers: { 'x-correlation-id': 'bench' } };
const withContext = await runWithRequestContext(request, () =>
  compareAsync(
    {
      direct: () => direct.echo(input),
      on: () => onClient.echo(input),
    },
    { timeMs: 1_000, rounds: 8 },
  ),
);
const outside = await compareAsync(
  { direct: () => direct.echo(input), on: () => onClient.echo(input) },
  { timeMs: 1_000, rounds: 8 },
);
progress('zod safeParse reference');
const zod = await measureSync(() => Item.safeParse(input), { timeMs: 700, rounds: 5 });

const offRatio = r.off!.ratio!;
const onNs = r.on!.p50Ns;
const identity = (offClient as unknown) instanceof EchoService;

printSection(
  section(
    'Core: local contract calls',
    `What is measured: \`await client.echo(item)\` on a service hosted in the same process (an async method returning its input, a 4-field object), in interleaved rounds with a direct \`await instance.echo(item)\` on the implementation as the baseline. ns per call; p50/p99 are of batch means.`,
    formatTable([
      resultRow('direct call on the instance (baseline)', r.direct!),
      resultRow('contract call, validation off', r.off!, {
        target: '≤ 1.1x',
        met: Math.round(offRatio * 100) / 100 <= 1.1,
      }),
      resultRow('contract call, input + output validation', r.on!, {
        target: '< 250 ns',
        met: onNs < 250,
      }),
      resultRow('contract call, validation + default observability (local-call metrics)', r.observed!),
      resultRow('contract call, `serialize: true` (+ validation)', r.serialize!),
      resultRow('reference: zod `Item.safeParse(item)` (sync, one parse)', zod, { ratio: '—' }),
    ]),
    [
      `With validation off the client ${identity ? 'is' : 'is not'} the implementation instance itself (no proxy): the call is a plain method call.`,
      `Verdicts: the ratio is the median of per-round ratios of median batches; the absolute target is checked on the p50 (median 200 µs batch), which a batch preempted by another process on this shared machine does not move. Mean and ops/s include every pause.`,
      `Validation adds ${formatNs(onNs - r.direct!.p50Ns)} per call (p50) over the direct call: two zod parses (input and output, ${formatNs(zod.p50Ns)} each for this object) and a promise chain.`,
      `\`serialize: true\` round-trips input, output and errors through the codec (JSON with tags), as a remote call would.`,
      `Default observability (metrics of local calls, tallied in plain numbers) adds ${formatNs(r.observed!.p50Ns - r.on!.p50Ns)} per validated call (p50).`,
      `The request context: a validated call made inside a request (the storage set, as an edge or the RPC server sets it) costs ${formatNs(withContext.on!.p50Ns - withContext.direct!.p50Ns)} over a direct call made in the same request, against ${formatNs(outside.on!.p50Ns - outside.direct!.p50Ns)} outside one: ${formatNs(withContext.on!.p50Ns - withContext.direct!.p50Ns - (outside.on!.p50Ns - outside.direct!.p50Ns))} added per call (target < 100 ns: ${verdict(withContext.on!.p50Ns - withContext.direct!.p50Ns - (outside.on!.p50Ns - outside.direct!.p50Ns) < 100)}). Once the storage exists, a direct call inside a request costs ${formatNs(withContext.direct!.p50Ns)} vs ${formatNs(r.direct!.p50Ns)} before any request (Node 20's async hooks on every promise).`,
      'Reference points from the issue, on this kind of machine: Moleculer local `broker.call` about 990 ns; zod parse of a small object about 90 ns.',
    ],
  ),
);

await Promise.all([off.app.stop(), on.app.stop(), serialized.app.stop(), observed.app.stop()]);
