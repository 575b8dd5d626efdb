/**
 * What securing calls between services costs: the same echo call at 64 in flight over plain http without
 * auth (the baseline), with authenticated calls, over TLS and over mutual TLS, and raw undici → node:http,
 * in one run, every server in its own child process.
 */
import { type BlueprintApp, createApp } from '@blueprint/core';
import { createTestPki } from '../test/harness/index.js';
import { Echo, echoApp, sampleItem } from './fixtures/echo-app.js';
import { createRawEchoClient } from './fixtures/raw-echo-client.js';
import { type SecureMode, secureTopology } from './fixtures/secure-echo.js';
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

const pki = await createTestPki({ clients: ['client'] });
const env = {
  BENCH_CA: pki.ca.certPath,
  BENCH_CERT: pki.server.certPath,
  BENCH_KEY: pki.server.keyPath,
  BENCH_CLIENT_CERT: pki.client.certPath,
  BENCH_CLIENT_KEY: pki.client.keyPath,
};
Object.assign(process.env, env);

const MODES: readonly SecureMode[] = ['plain', 'auth', 'tls', 'mtls'];
const serverScript = new URL('./fixtures/secure-echo-server.ts', import.meta.url);
const rawServer: Server = await startChild(new URL('./fixtures/raw-echo-server.ts', import.meta.url));
const raw = createRawEchoClient(rawServer.ready.url);
const servers = {} as Record<SecureMode, Server>;
const clients = {} as Record<SecureMode, BlueprintApp>;
for (const mode of MODES) {
  servers[mode] = await startChild(serverScript, { args: [mode], env });
  clients[mode] = await createApp(echoApp, {
    topology: secureTopology(mode),
    process: 'client',
    addresses: { server: servers[mode].ready.url },
    logDestination: { write: () => undefined },
  });
  await clients[mode].start();
}

const CONCURRENCY = 64;
progress(`http rpc: plain, auth, tls, mtls and raw at concurrency ${CONCURRENCY}`);
const caseOf = (mode: SecureMode) => {
  const echo = clients[mode].client(Echo);
  const server = servers[mode];
  return {
    call: () => echo.echo(sampleItem),
    probes: { client: cpuMicros, server: () => server.cpuMicros() },
  };
};
const r = await compareLatency(
  {
    plain: caseOf('plain'),
    auth: caseOf('auth'),
    tls: caseOf('tls'),
    mtls: caseOf('mtls'),
    raw: {
      call: () => raw.echo(sampleItem),
      probes: { client: cpuMicros, server: () => rawServer.cpuMicros() },
    },
  },
  { concurrency: CONCURRENCY, durationMs: 800, rounds: 5, warmupMs: 300 },
);

const base = r.plain!;
const auth = r.auth!;
const authMet = Math.round(auth.throughputRatio! * 100) / 100 >= 0.95;
const rows: Row[] = [
  latencyRow('Blueprint http RPC, plain, no auth (baseline)', base),
  latencyRow('with authenticated calls (HMAC credential per call)', auth, {
    target: '≥ 0.95x throughput (at most 5% fewer calls/s)',
    met: authMet,
  }),
  latencyRow('over TLS (https, server certificate)', r.tls!, { target: 'report' }),
  latencyRow('over mutual TLS (client certificates)', r.mtls!, { target: 'report' }),
  latencyRow('raw undici Pool → node:http (no Blueprint)', r.raw!, { target: 'reference' }),
];
const notes = (['auth', 'tls', 'mtls', 'raw'] as const).map((key) => {
  const m = r[key]!;
  return `${key}: ${formatRatio(m.throughputRatio)} of plain's calls/s, p50 ${formatNs(m.p50Ns)} vs ${formatNs(base.p50Ns)} (${formatRatio(m.p50Ratio)}), p99 ${formatNs(m.p99Ns)} vs ${formatNs(base.p99Ns)}; CPU per call (client + server) ${formatRatio(cpuOf(m) / cpuOf(base))} of plain; ${m.calls.toLocaleString('en-US')} calls measured (plain: ${base.calls.toLocaleString('en-US')}).`;
});

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
    'Core: the cost of authentication and TLS on http RPC',
    `What is measured: \`await client.echo(item)\` at ${CONCURRENCY} calls in flight from a process built by \`createApp\` to the echo service in a child process, over \`rpc: { type: "http" }\` with observability off, in four setups of the same topology: plain http with \`"auth": "none"\` (the baseline), authenticated calls (\`"auth": { "secret" }\`: the client mints an HMAC-SHA256 credential per call, the server verifies it and records its nonce), \`https://\` addresses with a \`tls\` section (P-256 certificates from a throw-away CA; keep-alive pools, so handshakes are rare and the cost is the record layer), and mutual TLS (client certificates too). The raw row is an undici Pool posting JSON to a bare node:http server, for reference. Interleaved rounds; ratios are medians of per-round ratios against plain. Client and servers share the 2 cores. CPU/call is the user + system CPU time of each process during the measured rounds ÷ calls.`,
    formatTable(rows),
    notes,
  ),
);

await Promise.all([...MODES.map((mode) => clients[mode].stop()), raw.close()]);
await Promise.all([rawServer.stop(), ...MODES.map((mode) => servers[mode].stop())]);
await pki.dispose();
