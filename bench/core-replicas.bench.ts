/**
 * Balancing over replicas: the same echo call at 64 in flight to one replica (its address alone), to
 * three replicas without a balancer (one client each, calls dealt in turn) and to three replicas through
 * the client-side balancer, servers in child processes; then a kill test: one of
 * the three replicas SIGKILLed while 64 idempotent calls are in flight.
 */
import { createApp } from '@blueprint/core';
import { getFreePortRange } from '../test/harness/index.js';
import { Echo, echoApp, OBSERVABILITY_OFF, replicaTopology, sampleItem } from './fixtures/echo-app.js';
import {
  type ChildHandle,
  compareLatency,
  cpuMicros,
  formatNs,
  formatRatio,
  formatTable,
  percentile,
  printSection,
  progress,
  resultRow,
  section,
  startChild,
  verdict,
} from './lib.js';

const base = await getFreePortRange(3);
const server = new URL('./fixtures/replica-echo-server.ts', import.meta.url);
const replicas: ChildHandle<{ url: string }>[] = [];
for (let replica = 0; replica < 3; replica++) {
  replicas.push(await startChild<{ url: string }>(server, { args: [String(base), String(replica)] }));
}
const topology = replicaTopology(base);
const balanced = await createApp(echoApp, {
  topology,
  process: 'client',
  logDestination: { write: () => undefined },
});
const single = await createApp(echoApp, {
  topology: { ...topology, observability: OBSERVABILITY_OFF },
  process: 'client',
  addresses: { server: replicas[0]!.ready.url },
  logDestination: { write: () => undefined },
});
/** One client per replica, each by its address alone: the three replicas loaded without a balancer. */
const direct = await Promise.all(
  replicas.map((replica) =>
    createApp(echoApp, {
      topology: { ...topology, observability: OBSERVABILITY_OFF },
      process: 'client',
      addresses: { server: replica.ready.url },
      logDestination: { write: () => undefined },
    }),
  ),
);
await Promise.all([balanced.start(), single.start(), ...direct.map((app) => app.start())]);
const viaBalancer = balanced.client(Echo);
const viaOne = single.client(Echo);
const viaEach = direct.map((app) => app.client(Echo));
let nextDirect = 0;
/** Deals the calls to the three replicas in turn, as an even balancer would, with no balancing code. */
const viaEachInTurn = () => {
  nextDirect = (nextDirect + 1) % viaEach.length;
  return viaEach[nextDirect]!.echo(sampleItem);
};
const serverCpu = async () =>
  (await Promise.all(replicas.map((r) => r.cpuMicros()))).reduce((a, b) => a + b, 0);

progress('one replica vs three through the balancer, c=64');
const r = await compareLatency(
  {
    one: { call: () => viaOne.echo(sampleItem), probes: { client: cpuMicros, servers: serverCpu } },
    inTurn: { call: viaEachInTurn, probes: { client: cpuMicros, servers: serverCpu } },
    three: { call: () => viaBalancer.echo(sampleItem), probes: { client: cpuMicros, servers: serverCpu } },
  },
  { concurrency: 64, durationMs: 1_200, rounds: 4, warmupMs: 300 },
);
const one = r.one!;
const inTurn = r.inTurn!;
const three = r.three!;
const clientCpu = (m: typeof one) => m.perCall.client ?? Number.NaN;
const clientRatio = clientCpu(three) / clientCpu(inTurn);
const spreadRatio = clientCpu(inTurn) / clientCpu(one);

progress('kill test: 64 in flight, one replica SIGKILLed');
const latencies: number[] = [];
const duringKill: number[] = [];
let failures = 0;
let calls = 0;
let killedAt = 0;
const started = performance.now();
const KILL_AT_MS = 1_000;
const RUN_MS = 3_000;
const worker = async () => {
  while (performance.now() - started < RUN_MS) {
    const t0 = performance.now();
    if (killedAt === 0 && t0 - started > KILL_AT_MS) {
      killedAt = t0;
      process.kill(replicas[1]!.pid, 'SIGKILL');
    }
    try {
      await viaBalancer.echo(sampleItem);
    } catch {
      failures++;
    }
    const ms = performance.now() - t0;
    calls++;
    latencies.push(ms * 1e6);
    if (killedAt > 0 && t0 - killedAt < 1_000) duringKill.push(ms * 1e6);
  }
};
await Promise.all(Array.from({ length: 64 }, worker));
latencies.sort((a, b) => a - b);
duringKill.sort((a, b) => a - b);

printSection(
  section(
    'Core: balancing over replicas',
    'What is measured: `await client.echo(item)` at 64 in flight to the `server` process, observability off, servers in three child processes on consecutive ports (`replicas: 3`): to one replica by its address alone (the baseline) and to all three through the client-side balancer (least outstanding of two random picks, passive ejection), in interleaved rounds; then a kill test.',
    formatTable([
      resultRow('one replica, by its address (baseline)', one),
      resultRow('three replicas, one client each by address, calls dealt in turn', inTurn),
      resultRow('three replicas through the balancer', three, {
        target: 'client CPU per call ≤ 1.11x of three replicas without a balancer',
        met: clientRatio <= 1.11,
      }),
    ]),
    [
      `Client CPU per call: ${formatNs(clientCpu(one) * 1000)} to one replica, ${formatNs(clientCpu(inTurn) * 1000)} to three replicas without a balancer (${formatRatio(spreadRatio)} of one: the cost of spreading the calls over three servers sharing two cores with the client), ${formatNs(clientCpu(three) * 1000)} through the balancer (${formatRatio(clientRatio)} of the three without it: the balancer's own cost — the pick, the outstanding counts, the per-replica breakers and ejection). Throughput through the balancer is ${formatRatio(three.opsPerSec / one.opsPerSec)} of one replica's; on this 2-core machine three server processes and the client share two cores, so total throughput cannot grow with replicas here — the per-call client cost is what shows whether the balancer becomes the bottleneck.`,
      `Kill test: ${calls.toLocaleString('en-US')} calls in ${RUN_MS / 1000} s with 64 in flight, replica 1 SIGKILLed after ${KILL_AT_MS / 1000} s: ${failures} failed (target 0: ${verdict(failures === 0)}); p99 over the whole run ${formatNs(percentile(latencies, 99))}, p99 in the second after the kill ${formatNs(percentile(duringKill, 99))}, max ${formatNs(duringKill.at(-1) ?? 0)}.`,
    ],
  ),
);

await Promise.all([balanced.stop(), single.stop(), ...direct.map((app) => app.stop())]);
await Promise.all(replicas.filter((_, i) => i !== 1).map((child) => child.stop()));
