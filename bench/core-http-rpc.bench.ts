/**
 * Remote contract calls over `http` RPC vs a raw node:http JSON echo server with an undici pool, all
 * servers in child processes, at concurrency 1 and 64.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Echo, echoApp, httpTopology, OBSERVABILITY_OFF, sampleItem } from './fixtures/echo-app.js';
import { createRawEchoClient } from './fixtures/raw-echo-client.js';
import {
  type ChildHandle,
  compareLatency,
  cpuMicros,
  formatNs,
  formatRatio,
  formatTable,
  type LatencyResult,
  printSection,
  progress,
  type Row,
  resultRow,
  section,
  startChild,
} from './lib.js';

type Server = ChildHandle<{ url: string }>;

const blueprintServer = new URL('./fixtures/blueprint-echo-server.ts', import.meta.url);
const rawServer: Server = await startChild(new URL('./fixtures/raw-echo-server.ts', import.meta.url));
const defaultServer: Server = await startChild(blueprintServer);
const bareServer: Server = await startChild(blueprintServer, { args: ['off'] });
const raw = createRawEchoClient(rawServer.ready.url);

async function clientOf(server: Server, observability?: typeof OBSERVABILITY_OFF): Promise<BlueprintApp> {
  const app = await createApp(echoApp, {
    topology: observability === undefined ? httpTopology : { ...httpTopology, observability },
    process: 'client',
    addresses: { server: server.ready.url },
  });
  await app.start();
  return app;
}
const defaultClient = await clientOf(defaultServer);
const bareClient = await clientOf(bareServer, OBSERVABILITY_OFF);
const viaDefault = defaultClient.client(Echo);
const viaBare = bareClient.client(Echo);

const TARGET = '≥ 0.8x throughput, p50 ≤ 1.25x';
const rows: Row[] = [];
const notes: string[] = [];
for (const concurrency of [1, 64]) {
  progress(`http rpc at concurrency ${concurrency}`);
  const r = await compareLatency(
    {
      raw: {
        call: () => raw.echo(sampleItem),
        probes: { client: cpuMicros, server: () => rawServer.cpuMicros() },
      },
      default: {
        call: () => viaDefault.echo(sampleItem),
        probes: { client: cpuMicros, server: () => defaultServer.cpuMicros() },
      },
      bare: {
        call: () => viaBare.echo(sampleItem),
        probes: { client: cpuMicros, server: () => bareServer.cpuMicros() },
      },
    },
    { concurrency, durationMs: 1_000, rounds: 5, warmupMs: 300 },
  );
  const base = r.raw!;
  rows.push(latencyRow(`raw node:http + undici Pool, c=${concurrency} (baseline)`, base));
  for (const [key, label] of [
    ['default', 'default observability'],
    ['bare', 'observability off'],
  ] as const) {
    const bp = r[key]!;
    // Checked on the ratios as printed (two decimals), so the verdict agrees with the table.
    const met = round2(bp.throughputRatio!) >= 0.8 && round2(bp.p50Ratio!) <= 1.25;
    rows.push(latencyRow(`Blueprint http RPC, ${label}, c=${concurrency}`, bp, { target: TARGET, met }));
    notes.push(
      `c=${concurrency}, ${label}: ${formatRatio(bp.throughputRatio)} of raw throughput, p50 ${formatRatio(bp.p50Ratio)} of raw (${formatNs(bp.p50Ns)} vs ${formatNs(base.p50Ns)}), p99 ${formatNs(bp.p99Ns)} vs ${formatNs(base.p99Ns)}; CPU per call (client + server) ${formatRatio(cpuOf(bp) / cpuOf(base))} of raw; ${bp.calls.toLocaleString('en-US')} calls measured (raw: ${base.calls.toLocaleString('en-US')}).`,
    );
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function cpuOf(m: LatencyResult): number {
  return (m.perCall.client ?? Number.NaN) + (m.perCall.server ?? Number.NaN);
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

printSection(
  section(
    'Core: remote calls over http RPC',
    'What is measured: `await client.echo(item)` from a process built by `createApp` (`rpc: { type: "http" }`) to the echo service in a child process, against a raw baseline doing the same JSON echo: a node:http server in a child process and an undici `Pool` (64 connections, keep-alive) posting JSON. Blueprint adds the codec, input validation on the server, output validation on the client, the deadline header, coded errors and its observability. Two Blueprint setups, client and server alike: the default observability (at the time of this run: metrics, and an info log line per served call) and observability off (`observability: { logLevel: "warn", metrics: { enabled: false }, tracing: { enabled: false } }`), which is the RPC path alone; bench/core-observability.bench.ts breaks the difference down. Interleaved rounds; latency is per call; ratios are medians of per-round ratios. Client and servers share the 2 cores. CPU/call is the user + system CPU time of each process during the measured rounds ÷ calls: unlike throughput, load from other processes barely moves it.',
    formatTable(rows),
    [
      ...notes,
      "Servers' stdout (their logs) goes to /dev/null, so the cost of writing a log line is counted but nobody reads it.",
      'Raw reference from the issue, on this kind of machine: about 10k calls/s with p50 92 µs at c=1, about 51k/s at c=64.',
    ],
  ),
);

await Promise.all([defaultClient.stop(), bareClient.stop(), raw.close()]);
await Promise.all([rawServer.stop(), defaultServer.stop(), bareServer.stop()]);
