/**
 * Runs the benches and writes bench/RESULTS.md. Read bench/README.md.
 *
 *   npm run bench                 # build, then every bench/*.bench.ts in file order
 *   npm run bench -- rpc cache    # only benches whose file name contains "rpc" or "cache"
 *   node --expose-gc --import tsx bench/run.ts --timeout 60 core   # without the build step
 *
 * Each bench runs as its own child process (`node --expose-gc --import tsx <file>`) with a time limit.
 * Its stdout (markdown) is collected; stdout and stderr are streamed to the terminal. A bench that exits
 * non-zero, or runs over its limit, is written to RESULTS.md as failed and makes the runner exit 1.
 * A run of some benches replaces their sections in RESULTS.md and keeps the others.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, RUN_TSCONFIG } from './lib.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);
const resultsFile = path.join(benchDir, 'RESULTS.md');
const SUFFIX = '.bench.ts';
const DEFAULT_TIMEOUT_S = 150;
const TAIL_LINES = 30;
/** Characters of a bench's stderr kept for the failure report (a chatty bench must not fill memory). */
const STDERR_KEPT = 16_384;

interface Outcome {
  readonly name: string;
  readonly ok: boolean;
  readonly markdown: string;
  readonly seconds: number;
  /** When it started. */
  readonly startedAt: Date;
}

function parseArgs(argv: readonly string[]): { filters: string[]; timeoutS: number } {
  const filters: string[] = [];
  let timeoutS = Number(process.env.BENCH_TIMEOUT_S ?? DEFAULT_TIMEOUT_S);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--timeout') timeoutS = Number(argv[++i]);
    else if (arg.startsWith('--timeout=')) timeoutS = Number(arg.slice('--timeout='.length));
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: npm run bench [-- [--timeout SECONDS] [NAME...]]\n  NAME selects benches whose file name contains it.\n',
      );
      process.exit(0);
    } else filters.push(arg);
  }
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    process.stderr.write(`bench: --timeout must be a positive number of seconds, got ${timeoutS}\n`);
    process.exit(2);
  }
  return { filters, timeoutS };
}

function listBenches(filters: readonly string[]): string[] {
  const all = readdirSync(benchDir)
    .filter((file) => file.endsWith(SUFFIX))
    .sort();
  if (filters.length === 0) return all;
  return all.filter((file) => filters.some((f) => file.slice(0, -SUFFIX.length).includes(f)));
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function runBench(file: string, timeoutS: number): Promise<Outcome> {
  const name = file.slice(0, -SUFFIX.length);
  const started = performance.now();
  const startedAt = new Date();
  process.stderr.write(`\n▶ ${name} (limit ${timeoutS} s)\n`);
  return new Promise((resolve) => {
    // Its own process group, so a timed-out bench is killed together with the servers it started.
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(benchDir, file)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSX_TSCONFIG_PATH: RUN_TSCONFIG },
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
      process.stderr.write(chunk);
    });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        child.kill(signal);
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5_000).unref();
    }, timeoutS * 1_000);
    const onSignal = () => {
      interrupted = true;
      killGroup('SIGTERM');
    };
    process.once('SIGINT', onSignal);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      const seconds = (performance.now() - started) / 1_000;
      const ok = code === 0 && !timedOut;
      const body = stdout.trim();
      if (ok && body.length > 0) {
        resolve({ name, ok, markdown: body, seconds, startedAt });
        return;
      }
      const why = timedOut
        ? `ran over its limit of ${timeoutS} s and was stopped`
        : code === 0
          ? 'exited 0 but printed no section on stdout'
          : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
      const partial = body.length > 0 ? `\n\nWhat it printed before failing:\n\n${body}` : '';
      resolve({
        name,
        ok: false,
        seconds,
        startedAt,
        markdown: `## ${name} — ❌ FAILED\n\n\`bench/${file}\` ${why}. Last lines of its stderr:\n\n\`\`\`text\n${tail(stderr, TAIL_LINES) || '(nothing)'}\n\`\`\`${partial}`,
      });
    });
  });
}

const START = (name: string) => `<!-- bench:${name} -->`;
const END = (name: string) => `<!-- /bench:${name} -->`;
const BLOCK = /<!-- bench:([\w.-]+) -->\n([\s\S]*?)\n<!-- \/bench:\1 -->/g;

function readSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(resultsFile)) return sections;
  for (const match of readFileSync(resultsFile, 'utf8').matchAll(BLOCK)) sections.set(match[1]!, match[2]!);
  return sections;
}

function stamp(outcome: Outcome, load: number): string {
  const date = outcome.startedAt.toISOString().slice(0, 16).replace('T', ' ');
  return `<sub>bench/${outcome.name}${SUFFIX} · ${date} UTC · ${outcome.seconds.toFixed(1)} s · load average at start ${load.toFixed(2)}</sub>`;
}

function writeResults(
  outcomes: readonly Outcome[],
  loads: ReadonlyMap<string, number>,
  allRun: boolean,
): void {
  const sections = readSections();
  for (const outcome of outcomes) {
    sections.set(outcome.name, `${outcome.markdown}\n\n${stamp(outcome, loads.get(outcome.name) ?? 0)}`);
  }
  const present = new Set(
    readdirSync(benchDir)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => f.slice(0, -SUFFIX.length)),
  );
  // The order benches run in: by file name.
  const names = [...sections.keys()]
    .filter((name) => present.has(name))
    .sort((a, b) => (`${a}${SUFFIX}` < `${b}${SUFFIX}` ? -1 : 1));
  const ran = outcomes.map((o) => o.name);
  const header = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Each section comes from one `bench/*.bench.ts`, which measures a Blueprint path and its raw baseline in the same run; ratios are Blueprint ÷ baseline (see bench/README.md for how each figure is measured).',
    '',
    `- **Machine:** ${machine()}`,
    `- **Last run:** ${allRun ? 'all benches' : ran.join(', ')}${allRun ? '' : ' (the other sections are from earlier runs; each section carries its own date)'}`,
    '- **Run:** `npm run bench` (builds, then runs every bench), or `npm run bench -- rpc` for the benches whose file name contains `rpc`.',
    '- The machine is shared: other work running at the same time lowers absolute figures (see the load average under each section); the interleaved ratios are the steadier numbers.',
    '',
  ];
  const body = names.map((name) => `${START(name)}\n${sections.get(name)!}\n${END(name)}`);
  writeFileSync(resultsFile, `${[...header, body.join('\n\n')].join('\n')}\n`);
  // The repo's formatter pads the tables; formatting here keeps `npm run lint` clean after a run.
  const biome = path.join(root, 'node_modules', '.bin', 'biome');
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', resultsFile], { cwd: root, stdio: 'ignore' });
}

const { filters, timeoutS } = parseArgs(process.argv.slice(2));
const benches = listBenches(filters);
if (benches.length === 0) {
  process.stderr.write(
    `bench: no bench/*${SUFFIX} matches ${filters.map((f) => JSON.stringify(f)).join(', ') || '(none exist)'}\n`,
  );
  process.exit(1);
}
let interrupted = false;
const runStarted = performance.now();
process.stderr.write(`${machine()}\nbenches: ${benches.join(', ')}\n`);
const outcomes: Outcome[] = [];
const loads = new Map<string, number>();
for (const file of benches) {
  loads.set(file.slice(0, -SUFFIX.length), os.loadavg()[0]!);
  const outcome = await runBench(file, timeoutS);
  if (interrupted) {
    process.stderr.write('\nbench: interrupted; RESULTS.md left unchanged\n');
    process.exit(130);
  }
  outcomes.push(outcome);
}
writeResults(outcomes, loads, filters.length === 0);

const failed = outcomes.filter((o) => !o.ok);
process.stderr.write(
  `\n${outcomes.length - failed.length}/${outcomes.length} benches passed in ${((performance.now() - runStarted) / 1_000).toFixed(0)} s; wrote ${path.relative(root, resultsFile)}\n`,
);
for (const f of failed) process.stderr.write(`  ✗ ${f.name}\n`);
process.exit(failed.length > 0 ? 1 : 0);
