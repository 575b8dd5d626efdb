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

/** A server of the fixture and its client, measured as one case. */
function caseOf(server: Server, client: ReturnType<typeof clientOf>) {
  return { call: () => client.get(), probes: { client: cpuMicros, server: () => server.cpuMicros() } };
}

function serverCpuRatio(of: LatencyResult, base: LatencyResult): string {
  return formatRatio((of.perCall.server ?? Number.NaN) / (base.perCall.server ?? Number.NaN));
}

for (const framework of ['fastify', 'express'] as const) {
  // Fastify's baseline is the hand-written route doing the adapter's work (the target is against it); the
  // least-work route is measured beside it. Express compares with the least-work route only.
  const modes = framework === 'fastify' ? ['same', 'hand', 'blueprint'] : ['hand', 'blueprint'];
  const servers = new Map<string, Server>();
  const clients = new Map<string, ReturnType<typeof clientOf>>();
  for (const mode of modes) {
    const server: Server = await startChild(fixture, { args: [`${framework}-${mode}`] });
    servers.set(mode, server);
    clients.set(mode, clientOf(server.ready.url));
  }
  const label = framework === 'fastify' ? 'Fastify' : 'Express 5';
  for (const concurrency of [1, 64]) {
    progress(`${framework} routes at concurrency ${concurrency}`);
    const cases = Object.fromEntries(
      modes.map((mode) => [mode, caseOf(servers.get(mode)!, clients.get(mode)!)]),
    );
    const r = await compareLatency(cases, { concurrency, durationMs: 700, rounds: 5, warmupMs: 300 });
    const base = r[modes[0]!]!;
    const bp = r.blueprint!;
    if (framework === 'fastify') {
      const least = r.hand!;
      rows.push(
        latencyRow(`hand-written ${label} route doing the adapter's work, c=${concurrency} (baseline)`, base),
      );
      rows.push(latencyRow(`hand-written ${label} route, least work, c=${concurrency}`, least));
      notes.push(
        `${label}, c=${concurrency}: the least-work route answers ${formatRatio(least.throughputRatio)} of the same-work route's throughput (server CPU per call ${serverCpuRatio(least, base)}); the adapter ${formatRatio(bp.throughputRatio! / least.throughputRatio!)} of the least-work route's.`,
      );
    } else {
      rows.push(latencyRow(`hand-written ${label} route, c=${concurrency} (baseline)`, base));
    }
    const met = Math.round(bp.throughputRatio! * 100) / 100 >= 0.9;
    rows.push(
      latencyRow(`@blueprint/http ${label} adapter, c=${concurrency}`, bp, {
        target: framework === 'fastify' ? TARGET : undefined,
        ...(framework === 'fastify' ? { met } : {}),
      }),
    );
    notes.push(
      `${label}, c=${concurrency}: ${formatRatio(bp.throughputRatio)} of the baseline's throughput, p50 ${formatRatio(bp.p50Ratio)} (${formatNs(bp.p50Ns)} vs ${formatNs(base.p50Ns)}); server CPU per call ${serverCpuRatio(bp, base)} of the baseline; ${bp.calls.toLocaleString('en-US')} calls measured (baseline: ${base.calls.toLocaleString('en-US')}).`,
    );
  }
  await Promise.all([...clients.values()].map((client) => client.pool.close()));
  await Promise.all([...servers.values()].map((server) => server.stop()));
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
    "What is measured: `GET /products/p1` from an undici `Pool` (64 connections, keep-alive) to a Fastify server in a child process. Every server calls the same local products client of a Blueprint app (validation on, observability off). Fastify's baseline (the target is against it) is the route written by hand doing the adapter's work: the path parameters checked with the input schema (zod); the correlation id (the caller's `x-correlation-id` when sane, else a new UUID) answered with `nosniff`; a 30 s deadline (less from `x-request-timeout`) enforced with a timer that answers 504; an `AbortController` fired when the client goes away; the call run with `runWithRequestContext` so the services it calls see the deadline, the correlation id and the signal; the product sent as JSON, coded errors answered by status. Beside it, the least-work route: the schema, the call, the JSON, the status, and nothing else (Express's baseline). The adapters do the same through `blueprintFastify` (with `blueprintFastifyOptions()`) and `blueprintRouter`: route table, path-to-input mapping and coercion, the input schema, a request context (deadline, correlation id, abort signal) around the call, the answer headers (`x-correlation-id`, `nosniff`), the error table, and its request observation (off here: no telemetry metrics, logs at warn). Interleaved rounds; ratios are medians of per-round ratios. Client and servers share the 2 cores; CPU/call server is the server process's CPU time during the measured rounds ÷ calls.",
    formatTable(rows),
    notes,
  ),
);
