/**
 * Lambda cold start: a fresh process loads a handler module and answers its first API Gateway HTTP API
 * event, @blueprint/http/lambda over a Blueprint app against a handler written by hand.
 */
import { spawn } from 'node:child_process';
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
  section,
} from './lib.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const runner = here('fixtures/lambda-cold-start.mjs');

interface Variant {
  readonly name: string;
  readonly module: string;
}
const variants: Variant[] = [
  { name: 'hand-written handler (baseline)', module: here('fixtures/lambda-raw-handler.mjs') },
  {
    name: '`blueprintLambda` over `createApp` + `start()`',
    module: here('fixtures/lambda-blueprint-handler.mjs'),
  },
];

interface Sample {
  /** From spawn() to the answer line. */
  readonly wallMs: number;
  /** From the start of the handler module's load to the first answer, inside the process. */
  readonly loadToAnswerMs: number;
}

function coldStart(variant: Variant): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner, variant.module], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sample: Sample | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^answer (\d+) ([\d.]+)/m.exec(stdout);
      if (sample === undefined && match !== null) {
        if (match[1] !== '200') reject(new Error(`${variant.name} answered ${match[1]}`));
        sample = { wallMs: performance.now() - started, loadToAnswerMs: Number(match[2]) };
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (sample !== undefined) resolve(sample);
      else
        reject(
          new Error(`${variant.name} exited (code ${code}, signal ${signal}) before answering:\n${stderr}`),
        );
    });
  });
}

const rounds = 5;
const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (const v of variants) await coldStart(v);
for (let round = 0; round < rounds; round++) {
  progress(`lambda cold start round ${round + 1}/${rounds}`);
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) samples.get(v.name)!.push(await coldStart(v));
}

const baseline = samples.get(variants[0]!.name)!;
const rows: Row[] = variants.map((v) => {
  const s = samples.get(v.name)!;
  const load = s.map((x) => x.loadToAnswerMs);
  const wall = s.map((x) => x.wallMs);
  return {
    case: v.name,
    'module load → first answer, p50': formatNs(median(load) * 1e6),
    'module load → first answer, max': formatNs(percentile(load, 100) * 1e6),
    'spawn → first answer, p50': formatNs(median(wall) * 1e6),
    'ratio vs baseline (spawn → answer)': formatRatio(median(wall) / median(baseline.map((x) => x.wallMs))),
    target: 'report',
    verdict: 'info',
  };
});

printSection(
  section(
    'HTTP: Lambda cold start',
    `What is measured: a fresh Node process (plain JavaScript, no TypeScript loader) imports a handler module as the Lambda runtime does and invokes it once with an API Gateway HTTP API (payload 2.0) event for \`GET /products/p1\`. "Module load → first answer" starts before the module's \`import()\` and ends when the first answer is back: for Blueprint, loading core, zod and @blueprint/http, \`createApp\` + \`start()\` at module load, the route table and the first call. "Spawn → first answer" adds Node's own start. ${rounds} interleaved runs of each after one warm-up run; medians.`,
    formatTable(rows),
    [
      'The Lambda runtime itself (its init phase, the event loop between invocations) is not part of this; a warm invocation does no start-up work.',
    ],
  ),
);
