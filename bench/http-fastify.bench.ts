/**
 * A contract route on @blueprint/http's Fastify and Express adapters vs the same route written by hand
 * on each framework, every server in a child process, at concurrency 1 and 64.
 */
import { Pool } from 'undici';
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

const fixture = new URL('./fixtures/http-edge-server.ts', import.meta.url);

function clientOf(url: string) {
  const pool = new Pool(url, { connections: 64, pipelining: 1, keepAliveTimeout: 4_000 });
  return {
    pool,
    async get(): Promise<unknown> {
      const response = await pool.request({ path: '/products/p1', method: 'GET' });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`answered ${response.statusCode}: ${text}`);
      return JSON.parse(text);
    },
  };
}

const TARGET = '≥ 0.9x throughput';
const rows: Row[] = [];
const notes: string[] = [];
for (const framework of ['fastify', 'express'] as const) {
  const hand: Server = await startChild(fixture, { args: [`${framework}-hand`] });
  const blueprint: Server = await startChild(fixture, { args: [`${framework}-blueprint`] });
  const handClient = clientOf(hand.ready.url);
  const blueprintClient = clientOf(blueprint.ready.url);
  const label = framework === 'fastify' ? 'Fastify' : 'Express 5';
  for (const concurrency of [1, 64]) {
    progress(`${framework} routes at concurrency ${concurrency}`);
    const r = await compareLatency(
      {
        hand: { call: () => handClient.get(), probes: { client: cpuMicros, server: () => hand.cpuMicros() } },
        blueprint: {
          call: () => blueprintClient.get(),
          probes: { client: cpuMicros, server: () => blueprint.cpuMicros() },
        },
      },
      { concurrency, durationMs: 700, rounds: 5, warmupMs: 300 },
    );
    const base = r.hand!;
    const bp = r.blueprint!;
    rows.push(latencyRow(`hand-written ${label} route, c=${concurrency} (baseline)`, base));
    const met = Math.round(bp.throughputRatio! * 100) / 100 >= 0.9;
    rows.push(
      latencyRow(`@blueprint/http ${label} adapter, c=${concurrency}`, bp, {
        target: framework === 'fastify' ? TARGET : undefined,
        ...(framework === 'fastify' ? { met } : {}),
      }),
    );
    notes.push(
      `${label}, c=${concurrency}: ${formatRatio(bp.throughputRatio)} of the hand-written route's throughput, p50 ${formatRatio(bp.p50Ratio)} (${formatNs(bp.p50Ns)} vs ${formatNs(base.p50Ns)}); server CPU per call ${formatRatio((bp.perCall.server ?? Number.NaN) / (base.perCall.server ?? Number.NaN))} of hand-written; ${bp.calls.toLocaleString('en-US')} calls measured (hand-written: ${base.calls.toLocaleString('en-US')}).`,
    );
  }
  await Promise.all([handClient.pool.close(), blueprintClient.pool.close()]);
  await Promise.all([hand.stop(), blueprint.stop()]);
}

function latencyRow(
  name: string,
  m: LatencyResult,
  extra: { target?: string | undefined; met?: boolean | undefined } = {},
): Row {
  const cpu = (probe: string) => `${(m.perCall[probe] ?? Number.NaN).toFixed(1)} µs`;
  return {
    ...resultRow(name, m, {
      ...extra,
      ratio: `${formatRatio(m.throughputRatio)} tput, ${formatRatio(m.p50Ratio)} p50`,
    }),
    'CPU/call server': cpu('server'),
  };
}

printSection(
  section(
    'HTTP: a contract route on the Fastify adapter vs a hand-written Fastify route',
    "What is measured: `GET /products/p1` from an undici `Pool` (64 connections, keep-alive) to a Fastify server in a child process. Both servers call the same local products client of a Blueprint app (validation on, observability off). The baseline is the route written by hand: the path parameters checked with the input schema (zod), the client called, the product sent as JSON, coded errors answered by status. The adapters do the same through `blueprintFastify` (with `blueprintFastifyOptions()`) and `blueprintRouter`: route table, path-to-input mapping and coercion, the input schema, a request context (deadline, correlation id, abort signal) around the call, the answer headers (`x-correlation-id`, `nosniff`), the error table, and its request observation (off here: no telemetry metrics, logs at warn). Interleaved rounds; ratios are medians of per-round ratios. Client and servers share the 2 cores; CPU/call server is the server process's CPU time during the measured rounds ÷ calls.",
    formatTable(rows),
    notes,
  ),
);
