/**
 * Remote contract calls over `tcp` RPC, side by side with `http` RPC, NestJS's TCP microservice
 * transport, Moleculer's TCP transporter and a raw multiplexed JSON-over-TCP echo, every server in a
 * child process, at concurrency 1 and 64, in one run.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { Echo, echoApp, httpTopology, OBSERVABILITY_OFF, sampleItem } from './fixtures/echo-app.js';
import { freePort, moleculerClient, nestClient } from './fixtures/tcp-peers.js';
import { createRawTcpClient } from './fixtures/tcp-raw-client.js';
import { tcpTopology } from './fixtures/tcp-topology.js';
import {
  type ChildHandle,
  compareLatency,
  cpuMicros,
  formatNs,
  formatOps,
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

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

const moleculerPorts = { server: await freePort(), client: await freePort() };
const nestPort = await freePort();
const [rawServer, tcpServer, tcpDefaultServer, httpServer, nestServer, moleculerServer] = await Promise.all([
  startChild<{ port: number }>(fixture('tcp-raw-server.ts')),
  startChild<{ url: string }>(fixture('tcp-blueprint-server.ts'), { args: ['off'] }),
  startChild<{ url: string }>(fixture('tcp-blueprint-server.ts')),
  startChild<{ url: string }>(fixture('blueprint-echo-server.ts'), { args: ['off'] }),
  startChild<{ port: number }>(fixture('tcp-peer-server.ts'), { args: ['nest', String(nestPort)] }),
  startChild<{ port: number }>(fixture('tcp-peer-server.ts'), {
    args: ['moleculer', String(moleculerPorts.server), String(moleculerPorts.client)],
  }),
]);

async function blueprintClient(topology: Record<string, unknown>, url: string, off: boolean) {
  const app: BlueprintApp = await createApp(echoApp, {
    topology: off ? { ...topology, observability: OBSERVABILITY_OFF } : topology,
    process: 'client',
    addresses: { server: url },
  });
  await app.start();
  return app;
}

const raw = await createRawTcpClient(rawServer.ready.port);
const tcpApp = await blueprintClient(tcpTopology, tcpServer.ready.url, true);
const tcpDefaultApp = await blueprintClient(tcpTopology, tcpDefaultServer.ready.url, false);
const httpApp = await blueprintClient(httpTopology, httpServer.ready.url, true);
const nest = await nestClient(nestServer.ready.port);
const molecule = await moleculerClient(moleculerPorts.client, moleculerPorts.server);
const viaTcp = tcpApp.client(Echo);
const viaTcpDefault = tcpDefaultApp.client(Echo);
const viaHttp = httpApp.client(Echo);

// NestJS comes first: compareLatency pairs each round's figures with the first case's, and the target
// is a ratio against NestJS TCP. Ratios against the raw floor come from the totals.
const cases = {
  nest: { call: () => nest.echo(sampleItem), server: nestServer },
  raw: { call: () => raw.echo(sampleItem), server: rawServer },
  tcp: { call: () => viaTcp.echo(sampleItem), server: tcpServer },
  tcpDefault: { call: () => viaTcpDefault.echo(sampleItem), server: tcpDefaultServer },
  http: { call: () => viaHttp.echo(sampleItem), server: httpServer },
  moleculer: { call: () => molecule.echo(sampleItem), server: moleculerServer },
} satisfies Record<string, { call: () => Promise<unknown>; server: ChildHandle }>;

// Each answer must be the item: a bench of a broken echo would measure nothing.
for (const [name, c] of Object.entries(cases)) {
  const answer = JSON.stringify(await c.call());
  if (answer !== JSON.stringify(sampleItem)) throw new Error(`${name} answered ${answer}`);
}

const LABELS: Record<keyof typeof cases, string> = {
  raw: 'raw node:net, JSON frames multiplexed on one connection (baseline)',
  tcp: 'Blueprint tcp RPC, observability off',
  tcpDefault: 'Blueprint tcp RPC, default observability',
  http: 'Blueprint http RPC, observability off',
  nest: 'NestJS 11 TCP transport (ClientProxy.send)',
  moleculer: 'Moleculer 0.14 TCP transporter (broker.call)',
};

const ROW_ORDER: readonly (keyof typeof cases)[] = ['raw', 'tcp', 'tcpDefault', 'http', 'nest', 'moleculer'];
const rows: Row[] = [];
const notes: string[] = [];
const verdicts: string[] = [];
for (const concurrency of [1, 64]) {
  progress(`tcp rpc at concurrency ${concurrency}`);
  const r = await compareLatency(
    Object.fromEntries(
      Object.entries(cases).map(([name, c]) => [
        name,
        { call: c.call, probes: { client: cpuMicros, server: () => c.server.cpuMicros() } },
      ]),
    ),
    { concurrency, durationMs: 500, rounds: 3, warmupMs: 200 },
  );
  const nestResult = r.nest!;
  const rawResult = r.raw!;
  for (const name of ROW_ORDER) {
    const m = r[name]!;
    const vsNest = { throughput: m.throughputRatio!, p50: m.p50Ratio! };
    const vsRaw = { throughput: m.opsPerSec / rawResult.opsPerSec, p50: m.p50Ns / rawResult.p50Ns };
    let extra: { target?: string; met?: boolean } = {};
    if (name === 'tcp') {
      // Checked on the ratios as printed (two decimals), so the verdict agrees with the table.
      const met = concurrency === 1 ? round2(vsNest.p50) <= 1 : round2(vsNest.throughput) >= 1;
      extra = {
        target: concurrency === 1 ? '≥ 1.0x NestJS TCP: p50 ≤ NestJS' : '≥ 1.0x NestJS TCP throughput',
        met,
      };
      verdicts.push(
        `c=${concurrency}: Blueprint tcp ÷ NestJS TCP = ${formatRatio(vsNest.throughput)} throughput, ${formatRatio(vsNest.p50)} p50 (medians of per-round ratios) → ${met ? 'met' : 'not met'}.`,
      );
    }
    rows.push(latencyRow(`${LABELS[name]}, c=${concurrency}`, m, vsRaw, vsNest, extra));
  }
  const tcp = r.tcp!;
  const http = r.http!;
  notes.push(
    `c=${concurrency}: Blueprint tcp with the default observability ÷ observability off: ${formatRatio(r.tcpDefault!.throughputRatio! / tcp.throughputRatio!)} throughput, ${formatRatio(r.tcpDefault!.p50Ratio! / tcp.p50Ratio!)} p50.`,
  );
  notes.push(
    `c=${concurrency}: Blueprint tcp ${formatOps(tcp.opsPerSec)} calls/s, p50 ${formatNs(tcp.p50Ns)}, p99 ${formatNs(tcp.p99Ns)}; http ${formatOps(http.opsPerSec)} calls/s, p50 ${formatNs(http.p50Ns)}; NestJS ${formatOps(nestResult.opsPerSec)} calls/s, p50 ${formatNs(nestResult.p50Ns)}; Moleculer ${formatOps(r.moleculer!.opsPerSec)} calls/s, p50 ${formatNs(r.moleculer!.p50Ns)}; tcp ÷ http: ${formatRatio(tcp.throughputRatio! / http.throughputRatio!)} throughput.`,
  );
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function latencyRow(
  name: string,
  m: LatencyResult,
  vsRaw: { throughput: number; p50: number },
  vsNest: { throughput: number; p50: number },
  extra: { target?: string; met?: boolean },
): Row {
  const cpu = (probe: string) => `${(m.perCall[probe] ?? Number.NaN).toFixed(1)} µs`;
  return {
    ...resultRow(name, m, {
      ...extra,
      ratio: `${formatRatio(vsRaw.throughput)} tput, ${formatRatio(vsRaw.p50)} p50`,
    }),
    'vs NestJS TCP': `${formatRatio(vsNest.throughput)} tput, ${formatRatio(vsNest.p50)} p50`,
    'CPU/call client': cpu('client'),
    'CPU/call server': cpu('server'),
  };
}

printSection(
  section(
    'Core: remote calls over tcp RPC, next to http RPC, NestJS TCP and Moleculer TCP',
    'What is measured: `await client.echo(item)` (a 4-field object) from the bench process to an echo server in a child process, in one run with interleaved rounds: Blueprint `rpc: { type: "tcp" }` (one connection, multiplexed; codec, server-side input validation, client-side output validation, deadline, cancellation, coded errors), with observability off (`logLevel: "warn"`, no metrics, no tracing) and with the defaults; Blueprint `rpc: { type: "http" }` with observability off; NestJS 11 `Transport.TCP` (`ClientProxy.send` + `firstValueFrom`, a controller with `@MessagePattern`, no validation); Moleculer 0.14 with the TCP transporter (`broker.call`, no parameter validation); and a raw baseline: one node:net connection with `u32 length | u32 id | JSON` frames, parsed and serialized again on the server. "vs NestJS TCP" is the median of per-round ratios against NestJS TCP (the target); "ratio vs baseline" compares the totals with the raw floor. Client and servers share the 2 cores. CPU/call is the user + system CPU of each process during the measured rounds ÷ calls.',
    formatTable(rows),
    [...verdicts, ...notes, "Servers' stdout goes to /dev/null."],
  ),
);

await Promise.all([
  tcpApp.stop(),
  tcpDefaultApp.stop(),
  httpApp.stop(),
  raw.close(),
  nest.close(),
  molecule.close(),
]);
await Promise.all(Object.values(cases).map((c) => c.server.stop()));
