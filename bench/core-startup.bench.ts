/**
 * Process start to ready: how long a one-service Blueprint process takes from spawn to its ready line,
 * against bare Node and a raw node:http server.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  formatNs,
  formatRatio,
  formatTable,
  median,
  percentile,
  printSection,
  progress,
  type Row,
  RUN_TSCONFIG,
  section,
} from './lib.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const cli = here('../packages/core/bin/blueprint.js');

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
  readonly ready: RegExp;
}

const variants: Variant[] = [
  { name: 'bare `node -e` (baseline)', args: ['-e', "console.log('ready')"], ready: /^ready/m },
  { name: 'raw node:http server listening', args: [here('fixtures/startup-raw-http.mjs')], ready: /^ready/m },
  {
    name: '`createApp` + `start()`, http RPC (plain JS entry)',
    args: [here('fixtures/startup-create-app.mjs')],
    ready: /^ready/m,
  },
];
if (existsSync(cli)) {
  variants.push({
    name: '`blueprint start --topology`, http RPC (`.ts` app entry via tsx)',
    args: [cli, 'start', '--topology', here('fixtures/startup-topology.json')],
    ready: /blueprint: ready/,
  });
}

/** Spawns a process and resolves with the ms from spawn to its ready line, once it has exited. */
function timeToReady(variant: Variant): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, variant.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSX_TSCONFIG_PATH: RUN_TSCONFIG },
    });
    let readyAfter: number | undefined;
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (readyAfter === undefined && variant.ready.test(stdout)) {
        readyAfter = performance.now() - started;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (readyAfter !== undefined) resolve(readyAfter);
      else
        reject(new Error(`${variant.name} exited (code ${code}, signal ${signal}) before ready:\n${stderr}`));
    });
  });
}

const rounds = 5;
const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (const v of variants) await timeToReady(v);
for (let round = 0; round < rounds; round++) {
  progress(`startup round ${round + 1}/${rounds}`);
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) samples.get(v.name)!.push(await timeToReady(v));
}

const baseline = median(samples.get(variants[0]!.name)!);
const rows: Row[] = variants.map((v) => {
  const ms = samples.get(v.name)!;
  const p50 = median(ms);
  return {
    case: v.name,
    mean: formatNs((ms.reduce((a, b) => a + b, 0) / ms.length) * 1e6),
    p50: formatNs(p50 * 1e6),
    max: formatNs(percentile(ms, 100) * 1e6),
    'ratio vs baseline': formatRatio(p50 / baseline),
    target: 'report',
    verdict: 'info',
  };
});

printSection(
  section(
    'Core: process start to ready',
    `What is measured: wall time from \`spawn()\` to the process's ready line on stdout (then it is stopped with SIGTERM), for a one-service app whose process serves http RPC, against bare Node. ${rounds} interleaved runs of each; ratio of medians.`,
    formatTable(rows),
    [
      existsSync(cli)
        ? '`blueprint start` includes loading the CLI, compiling the `.ts` app module with tsx, parsing the topology, building the container and listening; the JS entry row is core alone.'
        : 'The `blueprint` CLI was not built yet; only `createApp` + `start()` in a child script is measured.',
      'Reference from the issue: bare Node starts in about 50 ms on this kind of machine.',
    ],
  ),
);
