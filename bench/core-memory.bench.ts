/**
 * Memory under load: RSS and heap of the http RPC server process and of the client process before and
 * after a long run of remote calls at concurrency 64. A leak of even a few bytes per call shows here.
 */
import { createApp } from '@blueprint/core';
import { Echo, echoApp, httpTopology, sampleItem } from './fixtures/echo-app.js';
import { createRawEchoClient } from './fixtures/raw-echo-client.js';
import {
  type ChildHandle,
  formatBytes,
  formatOps,
  formatTable,
  type MemorySnapshot,
  measureLatency,
  memory,
  printSection,
  progress,
  type Row,
  section,
  startChild,
} from './lib.js';

const TARGET_CALLS = 1_000_000;
const BLUEPRINT_BUDGET_MS = 3_000;
const RAW_BUDGET_MS = 1_200;
const WARMUP_CALLS = 20_000;
const concurrency = 64;

interface Phase {
  readonly name: string;
  readonly calls: number;
  readonly opsPerSec: number;
  readonly server: readonly [MemorySnapshot, MemorySnapshot];
  readonly client: readonly [MemorySnapshot, MemorySnapshot];
}

async function phase(
  name: string,
  server: ChildHandle,
  call: () => Promise<unknown>,
  budgetMs: number,
): Promise<Phase> {
  progress(`${name}: warmup`);
  await measureLatency(call, { concurrency, count: WARMUP_CALLS, warmupMs: 0 });
  const before = [await server.memory(), memory()] as const;
  progress(`${name}: up to ${TARGET_CALLS.toLocaleString('en-US')} calls or ${budgetMs / 1000} s`);
  const run = await measureLatency(call, {
    concurrency,
    count: TARGET_CALLS,
    durationMs: budgetMs,
    warmupMs: 0,
  });
  const after = [await server.memory(), memory()] as const;
  return {
    name,
    calls: run.calls,
    opsPerSec: run.opsPerSec,
    server: [before[0], after[0]],
    client: [before[1], after[1]],
  };
}

const rawServer = await startChild<{ url: string }>(
  new URL('./fixtures/raw-echo-server.ts', import.meta.url),
);
const raw = createRawEchoClient(rawServer.ready.url);
const rawPhase = await phase('raw', rawServer, () => raw.echo(sampleItem), RAW_BUDGET_MS);
await raw.close();
await rawServer.stop();

const bpServer = await startChild<{ url: string }>(
  new URL('./fixtures/blueprint-echo-server.ts', import.meta.url),
);
const client = await createApp(echoApp, {
  topology: httpTopology,
  process: 'client',
  addresses: { server: bpServer.ready.url },
});
await client.start();
const echo = client.client(Echo);
const bpPhase = await phase('blueprint', bpServer, () => echo.echo(sampleItem), BLUEPRINT_BUDGET_MS);
await client.stop();
await bpServer.stop();

/** Flat: RSS after a full GC within 8 MB (allocator noise) and the V8 heap within 1 MB of the start. */
const RSS_SLACK = 8e6;
const HEAP_SLACK = 1e6;

const rows: Row[] = [];
const flat: boolean[] = [];
for (const p of [rawPhase, bpPhase]) {
  for (const [role, [before, after]] of [
    ['server process', p.server],
    ['client process', p.client],
  ] as const) {
    const rssDelta = after.rss - before.rss;
    const heapDelta = after.heapUsed - before.heapUsed;
    const isBlueprint = p === bpPhase;
    const ok = rssDelta <= RSS_SLACK && heapDelta <= HEAP_SLACK;
    if (isBlueprint) flat.push(ok);
    rows.push({
      case: `${isBlueprint ? 'Blueprint http RPC' : 'raw node:http + undici (baseline)'}, ${role}`,
      calls: p.calls.toLocaleString('en-US'),
      'calls/s': formatOps(p.opsPerSec),
      'RSS before': formatBytes(before.rss),
      'RSS after': formatBytes(after.rss),
      'Δ RSS per call': `${(rssDelta / p.calls).toFixed(2)} B`,
      'heap before → after': `${formatBytes(before.heapUsed)} → ${formatBytes(after.heapUsed)}`,
      'Δ heap per call': `${(heapDelta / p.calls).toFixed(3)} B`,
      target: isBlueprint ? 'flat' : '—',
      verdict: isBlueprint ? (ok ? '✅ flat' : '❌ grows') : 'info',
    });
  }
}

printSection(
  section(
    'Core: memory under a long run of remote calls',
    `What is measured: RSS and V8 heap (each read after a full GC) of the http RPC server process and of the client process, after a warmup of ${WARMUP_CALLS.toLocaleString('en-US')} calls and again after the run, at concurrency ${concurrency}. Blueprint runs ${TARGET_CALLS.toLocaleString('en-US')} calls or as many as fit in ${BLUEPRINT_BUDGET_MS / 1000} s on this machine (the count is in the table); the raw baseline runs for ${RAW_BUDGET_MS / 1000} s.`,
    formatTable(rows),
    [
      `"Flat" means RSS grew by at most ${formatBytes(RSS_SLACK)} (allocator noise) and the V8 heap by at most ${formatBytes(HEAP_SLACK)} over the run: ${flat.every(Boolean) ? 'both Blueprint processes stay flat' : 'a Blueprint process grew; see the row marked ❌'}.`,
      'Per-call figures divide the growth by the number of calls; a negative figure means memory was returned.',
    ],
  ),
);
