/**
 * What metrics, request logs and tracing add to a remote call over `http` RPC: the same echo call with
 * observability off, with the defaults (metrics + one info log line per served call, no SDK), and with
 * an OpenTelemetry SDK tracing every call on both sides. Servers run in child processes.
 */
import { type CallContext, createApp } from '@blueprint/core';
import {
  composeChain,
  createCallObservers,
  createTelemetry,
  type Invocation,
  type LinkTarget,
  observabilityLink,
  tracerRegistered,
  validationLink,
} from '@blueprint/core/plugin';
import { destination } from 'pino';
import { Echo, EchoService, echoApp, sampleItem } from './fixtures/echo-app.js';
import {
  type ObservabilityMode,
  observabilityTopology,
  registerTracingSdk,
} from './fixtures/observability.js';
import {
  compareAsync,
  compareLatency,
  cpuMicros,
  formatNs,
  formatRatio,
  formatTable,
  type LatencyResult,
  measureSync,
  printSection,
  progress,
  type Row,
  resultRow,
  section,
  startChild,
} from './lib.js';

// Per-call CPU cost of the instrumentation itself, in this process: the server's `serve` chain and the
// client's remote `call` chain, with and without the observability link, around a stand-in transport that
// answers at once.
const echoService = new EchoService();
const target = (entry: LinkTarget['entry'], placement: LinkTarget['placement']): LinkTarget => ({
  entry,
  placement,
  process: 'bench',
  className: 'EchoService',
  method: 'echo',
  contract: Echo,
  definition: Echo.methods.echo,
});
const validation = validationLink({ serialize: false, validateInput: true, validateOutput: true });
const serveTerminal: Invocation = (input) => echoService.echo(input);
const transportTerminal: Invocation = async () => sampleItem;
const callContext: CallContext = { headers: { 'x-correlation-id': 'c-42' } };
const telemetry = (process: string) =>
  createTelemetry({
    app: 'bench',
    process,
    env: {},
    logDestination: destination({ dest: '/dev/null', sync: true }),
  });
const chains = (links: Parameters<typeof composeChain>[0]) => {
  const serve = composeChain(links, target('serve', 'local'), serveTerminal);
  const call = composeChain(links, target('call', 'remote'), transportTerminal);
  return {
    dispatch: () => serve(sampleItem, callContext) as Promise<unknown>,
    call: () => call(sampleItem, callContext) as Promise<unknown>,
  };
};
const wrap = (process: string) => {
  const t = telemetry(process);
  const observability = observabilityLink(t, createCallObservers(t), {
    addressOf: () => 'http://127.0.0.1:4001',
    serverUrl: () => 'http://127.0.0.1:4001',
  });
  return chains([observability, validation]);
};
const raw = chains([validation]);

progress('instrumentation per call, no SDK');
const check = await measureSync(() => tracerRegistered(), { timeMs: 500 });
const noSdk = wrap('plain');
const microNoSdk = await compareAsync(
  {
    'dispatch (baseline)': raw.dispatch,
    'dispatch, instrumented': noSdk.dispatch,
    'client call (baseline)': raw.call,
    'client call, instrumented': noSdk.call,
  },
  { timeMs: 500 },
);

const modes: ObservabilityMode[] = ['off', 'on', 'traced'];
const servers = await Promise.all(
  modes.map((mode) =>
    startChild<{ url: string }>(new URL('./fixtures/observability-echo-server.ts', import.meta.url), {
      args: [mode],
    }),
  ),
);
const unregister = registerTracingSdk();
progress('instrumentation per call, SDK tracing every call');
const withSdk = wrap('traced');
const microSdk = await compareAsync(
  {
    'dispatch (baseline)': raw.dispatch,
    'dispatch, instrumented + SDK': withSdk.dispatch,
    'client call (baseline)': raw.call,
    'client call, instrumented + SDK': withSdk.call,
  },
  { timeMs: 500 },
);
const added = (m: Record<string, { p50Ns: number }>, base: string, name: string) =>
  m[name]!.p50Ns - m[base]!.p50Ns;
/** The ratio column against the case's own baseline (the helpers compare with the first case). */
const against = (m: { p50Ns: number }, base: { p50Ns: number }) => ({
  ratio: formatRatio(m.p50Ns / base.p50Ns),
});
const dispatchBase = microNoSdk['dispatch (baseline)']!;
const clientBase = microNoSdk['client call (baseline)']!;
const microRows: Row[] = [
  resultRow(
    'server: dispatch an echo call (baseline: input parsing + the method)',
    microNoSdk['dispatch (baseline)']!,
  ),
  resultRow('server: + metrics + one log line (defaults, no SDK)', microNoSdk['dispatch, instrumented']!, {
    ...against(microNoSdk['dispatch, instrumented']!, dispatchBase),
    target: '< 5 µs added',
    met: added(microNoSdk, 'dispatch (baseline)', 'dispatch, instrumented') < 5_000,
  }),
  resultRow(
    'server: + metrics + log line + SERVER span (SDK)',
    microSdk['dispatch, instrumented + SDK']!,
    against(microSdk['dispatch, instrumented + SDK']!, microSdk['dispatch (baseline)']!),
  ),
  resultRow('client: a transport answering at once (baseline)', clientBase, { ratio: '1.00x' }),
  resultRow('client: + metrics (defaults, no SDK)', microNoSdk['client call, instrumented']!, {
    ...against(microNoSdk['client call, instrumented']!, clientBase),
    target: '< 2 µs added',
    met: added(microNoSdk, 'client call (baseline)', 'client call, instrumented') < 2_000,
  }),
  resultRow(
    'client: + metrics + CLIENT span + traceparent (SDK)',
    microSdk['client call, instrumented + SDK']!,
    against(microSdk['client call, instrumented + SDK']!, microSdk['client call (baseline)']!),
  ),
  resultRow('tracing check per call without an SDK (`tracerRegistered()`)', check, {
    target: '< 100 ns',
    met: check.p50Ns < 100,
  }),
];
const microNotes = [
  `Added per served call: ${formatNs(added(microNoSdk, 'dispatch (baseline)', 'dispatch, instrumented'))} with the defaults, ${formatNs(added(microSdk, 'dispatch (baseline)', 'dispatch, instrumented + SDK'))} with SDK tracing; per call made: ${formatNs(added(microNoSdk, 'client call (baseline)', 'client call, instrumented'))} and ${formatNs(added(microSdk, 'client call (baseline)', 'client call, instrumented + SDK'))} (p50 differences; both sides of a remote call pay theirs).`,
];
const quiet = { write: () => undefined };
const clients = await Promise.all(
  modes.map(async (mode, index) => {
    const app = await createApp(echoApp, {
      topology: observabilityTopology(mode, 'client'),
      process: 'client',
      env: {},
      addresses: { server: servers[index]!.ready.url },
      logDestination: quiet,
    });
    await app.start();
    return app;
  }),
);
const [off, on, traced] = clients.map((app) => app.client(Echo));

const rows: Row[] = [];
const notes: string[] = [];
for (const concurrency of [1, 64]) {
  progress(`observability at concurrency ${concurrency}`);
  const r = await compareLatency(
    {
      off: {
        call: () => off!.echo(sampleItem),
        probes: { client: cpuMicros, server: () => servers[0]!.cpuMicros() },
      },
      on: {
        call: () => on!.echo(sampleItem),
        probes: { client: cpuMicros, server: () => servers[1]!.cpuMicros() },
      },
      traced: {
        call: () => traced!.echo(sampleItem),
        probes: { client: cpuMicros, server: () => servers[2]!.cpuMicros() },
      },
    },
    { concurrency, durationMs: 1_000, rounds: 4, warmupMs: 300 },
  );
  const base = r.off!;
  const metricsLogs = r.on!;
  const tracing = r.traced!;
  rows.push(
    latencyRow(`observability off, c=${concurrency} (baseline)`, base),
    latencyRow(
      `metrics + request logs (defaults, no SDK), c=${concurrency}`,
      metricsLogs,
      // The target is on throughput with many calls in flight; at c=1 the row is for reference.
      concurrency === 64
        ? {
            target: '≥ 0.95x throughput (at most 5% fewer calls/s)',
            met: metricsLogs.throughputRatio! >= 0.95,
          }
        : {},
    ),
    latencyRow(`metrics + logs + OpenTelemetry SDK tracing every call, c=${concurrency}`, tracing),
  );
  notes.push(
    `c=${concurrency}: defaults ${formatRatio(metricsLogs.throughputRatio)} of the baseline's throughput (p50 ${formatNs(metricsLogs.p50Ns)} vs ${formatNs(base.p50Ns)}), CPU per call (client + server) +${(cpuOf(metricsLogs) - cpuOf(base)).toFixed(1)} µs; with SDK tracing ${formatRatio(tracing.throughputRatio)} (p50 ${formatNs(tracing.p50Ns)}), +${(cpuOf(tracing) - cpuOf(base)).toFixed(1)} µs; ${base.calls.toLocaleString('en-US')}, ${metricsLogs.calls.toLocaleString('en-US')} and ${tracing.calls.toLocaleString('en-US')} calls measured.`,
  );
}

function latencyRow(name: string, m: LatencyResult, extra: { target?: string; met?: boolean } = {}): Row {
  const cpu = (probe: string) => `${(m.perCall[probe] ?? Number.NaN).toFixed(1)} µs`;
  return {
    ...resultRow(name, m, {
      ...extra,
      ratio: `${formatRatio(m.throughputRatio)} tput, ${formatRatio(m.p50Ratio)} p50`,
    }),
    'CPU/call client': cpu('client'),
    'CPU/call server': cpu('server'),
  };
}

/** Client + server CPU time per call, in µs. */
function cpuOf(m: LatencyResult): number {
  return (m.perCall.client ?? Number.NaN) + (m.perCall.server ?? Number.NaN);
}

printSection(
  section(
    'Core: observability overhead on http RPC',
    'What is measured: `await client.echo(item)` over `http` RPC to a server in a child process, in three set-ups measured in interleaved rounds: observability off on both sides (`metrics.enabled: false`, `tracing.enabled: false`, `logLevel: warn`); the defaults (client and server metrics, one info log line per served call written by pino to /dev/null, tracing enabled but no SDK registered in the server; the client turns tracing off because an SDK is registered in the bench process for the third case); and an OpenTelemetry SDK (BasicTracerProvider, BatchSpanProcessor with an exporter that drops spans, AsyncLocalStorage context, W3C propagation) registered on both sides, so every call makes a CLIENT and a SERVER span and carries `traceparent`. Client and servers share the 2 cores.',
    formatTable(rows),
    [
      ...notes,
      'Throughput and latency move with the load other processes put on the 2 cores, often by more than the instrumentation costs; CPU/call (user + system time of each process during the measured rounds ÷ calls) moves less, and the in-process micro measurements below least.',
    ],
  ),
);
printSection(
  section(
    'Core: observability cost per call',
    "What is measured: the CPU time the instrumentation adds to one call, in one process, without the network: `dispatch()` of the http server's dispatcher (input parsing and the echo method) bare and wrapped by `instrumentDispatcher` (server metrics, one info log line through a synchronous pino destination to /dev/null, a SERVER span when an SDK is registered), and `call()` of a transport that answers at once, bare and wrapped by `instrumentRpcClient` (client metrics; a CLIENT span and `traceparent` injection with the SDK). Batched micro measurements, interleaved.",
    formatTable(microRows),
    microNotes,
  ),
);

await Promise.all(clients.map((app) => app.stop()));
await unregister();
await Promise.all(servers.map((server) => server.stop()));
