/**
 * Process start to ready: how long a one-service Blueprint process and the shop monolith take from spawn
 * to their ready line, against bare Node and a raw node:http server.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  verdict,
} from './lib.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const cli = here('../packages/core/bin/blueprint.js');

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
  readonly ready: RegExp;
  readonly env?: Readonly<Record<string, string>>;
  /** The ready time this variant should stay under, when it has a target. */
  readonly targetMs?: number;
}

/**
 * The shop's sources compiled to JavaScript as a deployment runs them (SWC, decorators and their
 * metadata as tsc emits them), with the monolith topology beside them pointing at `src/app.js`. Returns
 * the topology file.
 */
async function buildShop(): Promise<string> {
  const swc = await import('@swc/core');
  const source = here('../examples/shop/src');
  const out = here('.out/shop');
  rmSync(out, { recursive: true, force: true });
  for (const file of readdirSync(source, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const { code } = swc.transformFileSync(path.join(source, file), {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
      module: { type: 'es6' },
    });
    const target = path.join(out, 'src', file.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, code);
  }
  const topology = JSON.parse(readFileSync(here('../examples/shop/topology/monolith.json'), 'utf8'));
  const file = path.join(out, 'monolith.json');
  writeFileSync(file, JSON.stringify({ ...topology, app: './src/app.js' }, null, 2));
  return file;
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
const shopData = mkdtempSync(path.join(tmpdir(), 'bench-shop-startup-'));
if (existsSync(cli)) {
  variants.push(
    {
      name: '`blueprint start --topology`, http RPC (`.ts` app entry via tsx)',
      args: [cli, 'start', '--topology', here('fixtures/startup-topology.json')],
      ready: /blueprint: ready/,
    },
    {
      name: 'the shop monolith: `blueprint start`, compiled JS (4 services, SQLite, Fastify edge)',
      args: [cli, 'start', '--topology', await buildShop()],
      ready: /blueprint: ready/,
      env: { PORT: '0', ADMIN_PORT: '0', DATA_DIR: shopData },
      targetMs: 300,
    },
  );
}

/** Spawns a process and resolves with the ms from spawn to its ready line, once it has exited. */
function timeToReady(variant: Variant): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, variant.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSX_TSCONFIG_PATH: RUN_TSCONFIG, ...variant.env },
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

const rounds = 3;
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
    target: v.targetMs === undefined ? 'report' : `ready < ${v.targetMs} ms (p50)`,
    verdict: v.targetMs === undefined ? 'info' : verdict(p50 < v.targetMs),
  };
});
rmSync(shopData, { recursive: true, force: true });

printSection(
  section(
    'Core: process start to ready',
    `What is measured: wall time from \`spawn()\` to the process's ready line on stdout (then it is stopped with SIGTERM), for a one-service app whose process serves http RPC and for the shop monolith (products, orders, payments and the gateway in one process: SQLite opened, the Fastify edge and the admin port listening; its database kept between runs, as on a restart), against bare Node. ${rounds} interleaved runs of each; ratio of medians.`,
    formatTable(rows),
    [
      existsSync(cli)
        ? '`blueprint start` includes loading the CLI, compiling the `.ts` app module with tsx, parsing the topology, building the container and listening; the JS entry row is core alone.'
        : 'The `blueprint` CLI was not built yet; only `createApp` + `start()` in a child script is measured.',
      'Reference from the issue: bare Node starts in about 50 ms on this kind of machine.',
    ],
  ),
);
