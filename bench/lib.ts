/**
 * Measuring helpers for `bench/*.bench.ts`. Read bench/README.md for the convention.
 *
 * - {@link measureSync} / {@link measureAsync}: ns-scale cost of one call, timed in batches.
 * - {@link compareSync} / {@link compareAsync}: several cases (the first is the baseline) measured in
 *   interleaved rounds, with a paired ratio per round and the median of those ratios.
 * - {@link measureLatency} / {@link compareLatency}: throughput and per-call latency of an async call
 *   at a given concurrency.
 * - {@link startChild} / {@link serveChild}: a server or worker in a child process (its own event loop),
 *   with an IPC channel to read its memory.
 * - {@link formatTable}, {@link section}, {@link resultRow}, {@link machine}: the markdown a bench prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------
// Micro measurements
// ---------------------------------------------------------------------------------------------------

/** Result of a batched micro measurement. Times are per call, in nanoseconds. */
export interface Measurement {
  /** Case name. */
  readonly name: string;
  /** Calls measured (warmup excluded). */
  readonly calls: number;
  /** Calls per second: calls ÷ total measured time (1e9 ÷ `meanNs`). */
  readonly opsPerSec: number;
  /** Total measured time ÷ calls: includes every pause (GC, preemption by other processes). */
  readonly meanNs: number;
  /** Median of the batch samples (each sample = one batch's time ÷ its calls). */
  readonly p50Ns: number;
  /** 99th percentile of the batch samples. At ns scale this is the slow batch, not the slow call. */
  readonly p99Ns: number;
  /** Calls per timed batch. */
  readonly batch: number;
  /**
   * Median over rounds of (this case's median batch in the round ÷ the baseline's), measured side by
   * side: robust to drift and to a batch preempted by another process. 1 for the baseline; undefined
   * for a single measurement.
   */
  readonly ratio: number | undefined;
}

/** Options of the micro measurements. */
export interface MicroOptions {
  /**
   * Calls measured per case, spread over the rounds. When left out, each case is measured for
   * `timeMs` instead.
   */
  readonly iterations?: number | undefined;
  /** Time per case when `iterations` is left out, in ms. Default 1000. */
  readonly timeMs?: number | undefined;
  /** Calls run before measuring, per case, so the JIT settles. Default: 10% of the budget, at least 10,000. */
  readonly warmup?: number | undefined;
  /** Calls per timed batch. Default: calibrated so a batch takes about `batchNs`. */
  readonly batch?: number | undefined;
  /** Target duration of one batch when calibrating, in ns. Default 200 µs: timer overhead is noise. */
  readonly batchNs?: number | undefined;
  /** Interleaved rounds (A B C, C B A, ...). Default 10. */
  readonly rounds?: number | undefined;
}

/**
 * The tsconfig tsx uses for benches: no `paths`, so `@blueprint/*` resolves to the built `dist` (the
 * published code), not to the sources the root tsconfig maps for editors and vitest.
 */
export const RUN_TSCONFIG = fileURLToPath(new URL('./tsconfig.json', import.meta.url));

/** Holds the last result of each batch so the JIT cannot drop the calls as dead code. */
const sinkBox: { v: unknown } = { v: undefined };

type SyncBatch = (fn: () => unknown, n: number, box: { v: unknown }) => void;
type AsyncBatch = (fn: () => Promise<unknown>, n: number, box: { v: unknown }) => Promise<void>;

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => AsyncBatch;

let loops = 0;

/**
 * A fresh loop per case, so each case's call site stays monomorphic and no case pays for another. The
 * source differs per loop (a numbered comment): V8 caches compiled `new Function` sources, and two
 * loops with the same source would share their type feedback.
 */
function syncBatchRunner(): SyncBatch {
  return new Function(
    'fn',
    'n',
    'box',
    `/* loop ${++loops} */ let r; for (let i = 0; i < n; i++) r = fn(); box.v = r;`,
  ) as SyncBatch;
}

function asyncBatchRunner(): AsyncBatch {
  return new AsyncFunction(
    'fn',
    'n',
    'box',
    `/* loop ${++loops} */ let r; for (let i = 0; i < n; i++) r = await fn(); box.v = r;`,
  );
}

interface Runner {
  readonly name: string;
  run(n: number): Promise<void> | void;
  readonly samples: number[];
  readonly roundMedians: number[];
  calls: number;
  totalNs: number;
  batch: number;
}

function now(): bigint {
  return process.hrtime.bigint();
}

async function calibrate(run: (n: number) => Promise<void> | void, targetNs: number): Promise<number> {
  let n = 1;
  for (;;) {
    const t0 = now();
    await run(n);
    const elapsed = Number(now() - t0);
    if (elapsed >= targetNs || n >= 1 << 26) {
      return Math.max(1, Math.round((n * targetNs) / Math.max(elapsed, 1)));
    }
    n *= elapsed < targetNs / 16 ? 8 : 2;
  }
}

interface MicroCase {
  readonly name: string;
  /** Runs the case `n` times in its measuring loop. */
  readonly run: (n: number) => Promise<void> | void;
  /** Runs the case `n` times in a throwaway loop. */
  readonly prewarm: (n: number) => Promise<void> | void;
}

async function runMicro(cases: readonly MicroCase[], options: MicroOptions): Promise<Measurement[]> {
  const rounds = Math.max(1, options.rounds ?? 10);
  const batchNs = options.batchNs ?? 200_000;
  const timeMs = options.timeMs ?? 1_000;
  const runners: Runner[] = cases.map((c) => ({
    name: c.name,
    run: c.run,
    samples: [],
    roundMedians: [],
    calls: 0,
    totalNs: 0,
    batch: 1,
  }));

  // Callees first get hot in throwaway loops, all cases taking turns: when that happens inside a
  // measuring loop, or while one case runs alone, V8 can leave that case's code in a slow state for
  // the rest of the run (seen as a 1.2x to 2x penalty on whichever case happened to run first).
  {
    const until = performance.now() + 2_000;
    for (let i = 0; i < 200 && performance.now() < until; i++) for (const c of cases) await c.prewarm(100);
  }

  for (const runner of runners) {
    runner.batch = options.batch ?? (await calibrate(runner.run, batchNs));
    const warmup =
      options.warmup ??
      Math.max(
        10_000,
        options.iterations !== undefined
          ? Math.round(options.iterations / 10)
          : Math.round((timeMs * 1e6 * 0.1) / batchNs) * runner.batch,
      );
    let left = warmup;
    while (left > 0) {
      const n = Math.min(left, runner.batch);
      await runner.run(n);
      left -= n;
    }
  }

  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? runners : [...runners].reverse();
    for (const runner of order) {
      let roundCalls = 0;
      let roundNs = 0;
      const first = runner.samples.length;
      const budgetCalls =
        options.iterations !== undefined ? Math.max(1, Math.round(options.iterations / rounds)) : Infinity;
      const budgetNs = options.iterations !== undefined ? Infinity : (timeMs * 1e6) / rounds;
      while (roundCalls < budgetCalls && roundNs < budgetNs) {
        const n = Math.min(runner.batch, budgetCalls - roundCalls);
        const t0 = now();
        await runner.run(n);
        const elapsed = Number(now() - t0);
        runner.samples.push(elapsed / n);
        roundCalls += n;
        roundNs += elapsed;
      }
      runner.calls += roundCalls;
      runner.totalNs += roundNs;
      runner.roundMedians.push(median(runner.samples.slice(first)));
    }
  }

  const baseline = runners[0]!;
  return runners.map((r) => {
    const sorted = [...r.samples].sort((a, b) => a - b);
    const ratio =
      runners.length > 1 ? median(r.roundMedians.map((m, i) => m / baseline.roundMedians[i]!)) : undefined;
    return {
      name: r.name,
      calls: r.calls,
      opsPerSec: (r.calls * 1e9) / r.totalNs,
      meanNs: r.totalNs / r.calls,
      p50Ns: percentileOfSorted(sorted, 50),
      p99Ns: percentileOfSorted(sorted, 99),
      batch: r.batch,
      ratio,
    };
  });
}

/**
 * Measures a synchronous function: ops/s, mean, p50 and p99 per call, timed in batches so the timer
 * does not dominate at ns scale.
 *
 * @example
 * const m = await measureSync(() => map.get('k'), { timeMs: 500 });
 */
export async function measureSync(fn: () => unknown, options: MicroOptions = {}): Promise<Measurement> {
  return (await compareSync({ [fn.name || 'case']: fn }, options))[fn.name || 'case']!;
}

/** Like {@link measureSync} for a function returning a promise; each call is awaited before the next. */
export async function measureAsync(
  fn: () => Promise<unknown>,
  options: MicroOptions = {},
): Promise<Measurement> {
  return (await compareAsync({ [fn.name || 'case']: fn }, options))[fn.name || 'case']!;
}

/**
 * Measures several synchronous cases side by side, in interleaved rounds (A B, B A, ...) so drift and
 * load from other processes hit every case alike. The first case is the baseline: every result carries
 * `ratio` = median over rounds of its round mean ÷ the baseline's.
 *
 * @example
 * const r = await compareSync({ 'Map.get': () => map.get(k), '@Cached hit': () => svc.read(k) });
 */
export async function compareSync(
  cases: Record<string, () => unknown>,
  options: MicroOptions = {},
): Promise<Record<string, Measurement>> {
  const list = Object.entries(cases).map(([name, fn]) => {
    const loop = syncBatchRunner();
    const throwaway = syncBatchRunner();
    return {
      name,
      run: (n: number) => loop(fn, n, sinkBox),
      prewarm: (n: number) => throwaway(fn, n, sinkBox),
    };
  });
  return byName(await runMicro(list, options));
}

/** Like {@link compareSync} for functions returning promises; each call is awaited before the next. */
export async function compareAsync(
  cases: Record<string, () => Promise<unknown>>,
  options: MicroOptions = {},
): Promise<Record<string, Measurement>> {
  const list = Object.entries(cases).map(([name, fn]) => {
    const loop = asyncBatchRunner();
    const throwaway = asyncBatchRunner();
    return {
      name,
      run: (n: number) => loop(fn, n, sinkBox),
      prewarm: (n: number) => throwaway(fn, n, sinkBox),
    };
  });
  return byName(await runMicro(list, options));
}

function byName<T extends { name: string }>(list: readonly T[]): Record<string, T> {
  return Object.fromEntries(list.map((item) => [item.name, item]));
}

// ---------------------------------------------------------------------------------------------------
// Latency under concurrency
// ---------------------------------------------------------------------------------------------------

/** Result of {@link measureLatency}. Latencies are per call, in ns. */
export interface LatencyResult {
  /** Case name. */
  readonly name: string;
  /** Calls completed (warmup excluded). */
  readonly calls: number;
  /** Wall time of the measured part, in ms. */
  readonly elapsedMs: number;
  /** Completed calls per second. */
  readonly opsPerSec: number;
  /** Mean latency of one call. */
  readonly meanNs: number;
  /** Median latency of one call. */
  readonly p50Ns: number;
  /** 99th percentile latency of one call. */
  readonly p99Ns: number;
  /** Slowest call. */
  readonly maxNs: number;
  /** Concurrency used. */
  readonly concurrency: number;
  /**
   * For {@link compareLatency}: median over rounds of this case's throughput ÷ the baseline's
   * (higher is better). 1 for the baseline.
   */
  readonly throughputRatio: number | undefined;
  /** For {@link compareLatency}: median over rounds of this case's p50 ÷ the baseline's (lower is better). */
  readonly p50Ratio: number | undefined;
  /**
   * For {@link compareLatency} cases with `probes`: each probe's growth over the measured rounds ÷
   * calls, e.g. CPU µs per call of the client and of the server.
   */
  readonly perCall: Readonly<Record<string, number>>;
}

/** Options of {@link measureLatency}. */
export interface LatencyOptions {
  /** Calls in flight at once. Default 1. */
  readonly concurrency?: number | undefined;
  /** Measure for this long, in ms. Default 2000 unless `count` is given. */
  readonly durationMs?: number | undefined;
  /** Or measure this many calls (whichever of `durationMs`/`count` comes first when both are given). */
  readonly count?: number | undefined;
  /** Run this long first without recording, in ms. Default 300. */
  readonly warmupMs?: number | undefined;
}

/** The latency histogram is a fixed-size HDR histogram: recording a million calls allocates nothing. */
interface LatencyRun {
  readonly histogram: RecordableHistogram;
  calls: number;
  elapsedNs: number;
}

async function runConcurrent(
  fn: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  count: number,
): Promise<LatencyRun> {
  const histogram = createHistogram();
  let started = 0;
  let failure: unknown;
  const deadline = performance.now() + durationMs;
  const worker = async () => {
    while (started < count && failure === undefined && performance.now() < deadline) {
      started++;
      const t0 = now();
      try {
        await fn();
      } catch (error) {
        failure ??= error;
        return;
      }
      histogram.record(Math.max(1, Number(now() - t0)));
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedNs = Number(now() - t0);
  if (failure !== undefined) throw failure;
  return { histogram, calls: histogram.count, elapsedNs };
}

function latencyResult(
  name: string,
  histogram: RecordableHistogram,
  calls: number,
  elapsedNs: number,
  concurrency: number,
  ratios?: { throughput: number; p50: number },
): LatencyResult {
  return {
    name,
    calls,
    elapsedMs: elapsedNs / 1e6,
    opsPerSec: (calls * 1e9) / elapsedNs,
    meanNs: histogram.mean,
    p50Ns: histogram.percentile(50),
    p99Ns: histogram.percentile(99),
    maxNs: histogram.max,
    concurrency,
    throughputRatio: ratios?.throughput,
    p50Ratio: ratios?.p50,
    perCall: {},
  };
}

/**
 * Runs `fn` with `concurrency` calls in flight for `durationMs` (or `count` calls) and reports
 * throughput and per-call latency. Throws the first error a call raised.
 *
 * @example
 * const r = await measureLatency(() => client.echo(payload), { concurrency: 64, durationMs: 2000 });
 */
export async function measureLatency(
  fn: () => Promise<unknown>,
  options: LatencyOptions = {},
  name = fn.name || 'case',
): Promise<LatencyResult> {
  const concurrency = options.concurrency ?? 1;
  const count = options.count ?? Infinity;
  const durationMs = options.durationMs ?? (options.count !== undefined ? Infinity : 2_000);
  const warmupMs = options.warmupMs ?? 300;
  if (warmupMs > 0) await runConcurrent(fn, concurrency, warmupMs, Infinity);
  const run = await runConcurrent(fn, concurrency, durationMs, count);
  return latencyResult(name, run.histogram, run.calls, run.elapsedNs, concurrency);
}

/** A case of {@link compareLatency} with probes read before and after each of its rounds. */
export interface LatencyCase {
  /** The call to measure. */
  readonly call: () => Promise<unknown>;
  /**
   * Counters read around each round (outside the timed part), reported per call in `perCall`, e.g.
   * `{ 'client CPU µs': cpuMicros, 'server CPU µs': () => server.cpuMicros() }`.
   */
  readonly probes?: Readonly<Record<string, () => number | Promise<number>>> | undefined;
}

/** Options of {@link compareLatency}. */
export interface CompareLatencyOptions {
  /** Calls in flight at once. Default 1. */
  readonly concurrency?: number | undefined;
  /** Measured time per case, split over the rounds, in ms. Default 3000. */
  readonly durationMs?: number | undefined;
  /** Interleaved rounds. Default 3. */
  readonly rounds?: number | undefined;
  /** Warmup per case before the first round, in ms. Default 300. */
  readonly warmupMs?: number | undefined;
}

/**
 * Measures several async cases at the same concurrency in interleaved rounds (A B, B A, ...). The first
 * case is the baseline; each result carries the median per-round throughput and p50 ratios.
 */
export async function compareLatency(
  cases: Record<string, (() => Promise<unknown>) | LatencyCase>,
  options: CompareLatencyOptions = {},
): Promise<Record<string, LatencyResult>> {
  const concurrency = options.concurrency ?? 1;
  const rounds = Math.max(1, options.rounds ?? 3);
  const perRound = (options.durationMs ?? 3_000) / rounds;
  const warmupMs = options.warmupMs ?? 300;
  const entries = Object.entries(cases).map(([name, c]) => ({
    name,
    fn: typeof c === 'function' ? c : c.call,
    probes: Object.entries(typeof c === 'function' ? {} : (c.probes ?? {})),
    probeTotals: new Map<string, number>(),
    histogram: createHistogram(),
    calls: 0,
    elapsedNs: 0,
    roundOps: [] as number[],
    roundP50: [] as number[],
  }));
  const readProbes = (entry: (typeof entries)[number]) =>
    Promise.all(entry.probes.map(async ([, probe]) => probe()));
  for (const entry of entries) await runConcurrent(entry.fn, concurrency, warmupMs, Infinity);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse();
    for (const entry of order) {
      const before = await readProbes(entry);
      const run = await runConcurrent(entry.fn, concurrency, perRound, Infinity);
      const after = await readProbes(entry);
      entry.probes.forEach(([probe], i) => {
        entry.probeTotals.set(probe, (entry.probeTotals.get(probe) ?? 0) + after[i]! - before[i]!);
      });
      entry.histogram.add(run.histogram);
      entry.calls += run.calls;
      entry.elapsedNs += run.elapsedNs;
      entry.roundOps.push((run.calls * 1e9) / run.elapsedNs);
      entry.roundP50.push(run.histogram.percentile(50));
    }
  }
  const baseline = entries[0]!;
  return byName(
    entries.map((e) => ({
      ...latencyResult(e.name, e.histogram, e.calls, e.elapsedNs, concurrency, {
        throughput: median(e.roundOps.map((ops, i) => ops / baseline.roundOps[i]!)),
        p50: median(e.roundP50.map((p, i) => p / baseline.roundP50[i]!)),
      }),
      perCall: Object.fromEntries([...e.probeTotals].map(([probe, total]) => [probe, total / e.calls])),
    })),
  );
}

// ---------------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------------

/** Runs a full garbage collection (twice, so finalizers' garbage goes too). Needs `--expose-gc`. */
export function gc(): void {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('gc() needs node --expose-gc (the bench runner passes it)');
  }
  globalThis.gc();
  globalThis.gc();
}

/** Resident set size of this process, in bytes. */
export function rss(): number {
  return process.memoryUsage.rss();
}

/**
 * CPU time this process has used so far (user + system), in µs. Diff two readings around a run to get
 * the CPU cost of the work, which, unlike throughput, other processes on a shared machine barely move.
 */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** A memory reading taken after a full GC. */
export interface MemorySnapshot {
  /** Resident set size, bytes. */
  readonly rss: number;
  /** V8 heap in use, bytes. */
  readonly heapUsed: number;
  /** Memory of Buffers and other off-heap objects, bytes. */
  readonly external: number;
}

/** Collects garbage, then reads this process's memory. */
export function memory(): MemorySnapshot {
  gc();
  const { rss: resident, heapUsed, external } = process.memoryUsage();
  return { rss: resident, heapUsed, external };
}

// ---------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------

interface ChildMessage {
  readonly kind: 'ready' | 'reply' | 'error';
  readonly id?: number | undefined;
  readonly data?: unknown;
  readonly message?: string | undefined;
}

/** A child process started by {@link startChild}. */
export interface ChildHandle<Ready = unknown> {
  /** What the child passed when it became ready (e.g. `{ url }`). */
  readonly ready: Ready;
  /** The child's pid. */
  readonly pid: number;
  /** Calls a handler the child registered with {@link serveChild}. */
  request<T = unknown>(type: string, payload?: unknown): Promise<T>;
  /** The child's memory after a full GC in the child. */
  memory(): Promise<MemorySnapshot>;
  /** CPU time the child has used so far (user + system), in µs: diff two readings around a run. */
  cpuMicros(): Promise<number>;
  /** Asks the child to stop (its `stop` hook runs), and kills it if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Arguments after the script. */
  readonly args?: readonly string[] | undefined;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /**
   * Where the child's stdout goes: `'ignore'` (default: an app logging a line per call must not make the
   * bench process relay it) or `'stderr'` (the bench's stderr, to debug). Its stderr always goes to the
   * bench's stderr.
   */
  readonly stdout?: 'ignore' | 'stderr' | undefined;
  /** Extra node flags, e.g. `['--cpu-prof']` to profile the child. */
  readonly execArgv?: readonly string[] | undefined;
  /** Fail when the child is not ready within this many ms. Default 20000. */
  readonly readyTimeoutMs?: number | undefined;
}

/**
 * Starts `script` (a .ts or .js file, run with `node --expose-gc --import tsx`) in its own process, so
 * it does not share the bench's event loop, and waits until it calls `ready` through
 * {@link serveChild}. Its stderr goes to the bench's stderr (the bench's stdout is markdown); its stdout
 * is dropped unless `stdout: 'stderr'`.
 */
export function startChild<Ready = unknown>(
  script: string | URL,
  options: StartChildOptions = {},
): Promise<ChildHandle<Ready>> {
  const file = script instanceof URL ? fileURLToPath(script) : script;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', ...(options.execArgv ?? []), '--import', 'tsx', file, ...(options.args ?? [])],
    {
      stdio: ['ignore', options.stdout === 'stderr' ? 'pipe' : 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, TSX_TSCONFIG_PATH: RUN_TSCONFIG, ...options.env },
    },
  );
  child.stdout?.pipe(process.stderr, { end: false });
  child.stderr?.pipe(process.stderr, { end: false });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise<ChildHandle<Ready>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} was not ready within ${options.readyTimeoutMs ?? 20_000} ms`));
    }, options.readyTimeoutMs ?? 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const error = new Error(`${file} exited (code ${code}, signal ${signal})`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      if (message.kind === 'ready') {
        clearTimeout(timer);
        const request = <T>(type: string, payload?: unknown) => {
          const id = nextId++;
          return new Promise<T>((res, rej) => {
            pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
            child.send({ id, type, payload });
          });
        };
        resolve({
          ready: message.data as Ready,
          pid: child.pid!,
          request,
          memory: () => request<MemorySnapshot>('memory'),
          cpuMicros: () => request<number>('cpu'),
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            if (child.connected) child.send({ id: 0, type: 'stop' });
            const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(killer);
          },
        });
        return;
      }
      const waiter = message.id !== undefined ? pending.get(message.id) : undefined;
      if (waiter === undefined) return;
      pending.delete(message.id!);
      if (message.kind === 'reply') waiter.resolve(message.data);
      else waiter.reject(new Error(message.message ?? 'child handler failed'));
    });
  });
}

/** What a child script passes to {@link serveChild}. */
export interface ChildService {
  /** Starts the child's work (a server, a consumer) and returns what the parent receives as `ready`. */
  start(): Promise<unknown> | unknown;
  /** Stops it. Runs when the parent calls `stop()` or disconnects. */
  stop?(): Promise<void> | void;
  /** Extra request handlers by type. `memory` and `cpu` are built in. */
  handlers?: Record<string, (payload: unknown) => unknown>;
}

/**
 * The child side of {@link startChild}: starts the work, reports ready, answers requests, and exits
 * when the parent asks or goes away.
 *
 * @example
 * await serveChild({ start: async () => { await app.start(); return { url: app.rpcUrl }; }, stop: () => app.stop() });
 */
export async function serveChild(service: ChildService): Promise<void> {
  if (typeof process.send !== 'function')
    throw new Error('serveChild() needs an IPC channel: use startChild()');
  const send = (message: ChildMessage) => process.send!(message);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await service.stop?.();
    } finally {
      if (process.connected) process.disconnect();
      process.exit(0);
    }
  };
  process.on('disconnect', () => void stop());
  process.on('message', (raw: { id: number; type: string; payload?: unknown }) => {
    if (raw.type === 'stop') {
      void stop();
      return;
    }
    const handler =
      raw.type === 'memory' ? () => memory() : raw.type === 'cpu' ? cpuMicros : service.handlers?.[raw.type];
    if (handler === undefined) {
      send({ kind: 'error', id: raw.id, message: `no handler "${raw.type}"` });
      return;
    }
    Promise.resolve()
      .then(() => handler(raw.payload))
      .then(
        (data) => send({ kind: 'reply', id: raw.id, data }),
        (error: unknown) => send({ kind: 'error', id: raw.id, message: String(error) }),
      );
  });
  const data = await service.start();
  send({ kind: 'ready', data });
}

// ---------------------------------------------------------------------------------------------------
// Statistics and formatting
// ---------------------------------------------------------------------------------------------------

/** Median of numbers (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0–100) of numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    p,
  );
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** `92.1 µs`, `145 ns`, `1.23 ms`. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : ns < 100 ? 1 : 0)} ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)} µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}

/** `1.23M`, `51.2k`, `812`. */
export function formatOps(ops: number): string {
  if (!Number.isFinite(ops)) return '—';
  if (ops >= 1e6) return `${trim(ops / 1e6)}M`;
  if (ops >= 1e3) return `${trim(ops / 1e3)}k`;
  return ops.toFixed(0);
}

/** `1.04x`. */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}x`;
}

/** `48.3 MB`, `512 kB`, `120 B` (decimal units; negative values keep their sign). */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const b = Math.abs(bytes);
  if (b >= 1e6) return `${sign}${trim(b / 1e6)} MB`;
  if (b >= 1e3) return `${sign}${trim(b / 1e3)} kB`;
  return `${sign}${b.toFixed(b < 10 ? 2 : 0)} B`;
}

/** Three significant digits, no trailing zeros beyond that. */
function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** `✅ met`, `❌ missed`, or `info` when there is no target. */
export function verdict(met: boolean | undefined): string {
  return met === undefined ? 'info' : met ? '✅ met' : '❌ missed';
}

/** A table row: column name → cell. Columns appear in the order of their first use. */
export type Row = Readonly<Record<string, string | number | undefined>>;

/** Extra cells of {@link resultRow}. */
export interface ResultRowOptions {
  /** Ratio vs the baseline (a number is formatted as `1.04x`). Default: the measurement's own ratio. */
  readonly ratio?: number | string | undefined;
  /** The target, in words: `≤ 1.1x`, `< 250 ns`. */
  readonly target?: string | undefined;
  /** Whether the target is met (`undefined`: information only), or the verdict text itself. */
  readonly met?: boolean | string | undefined;
}

/**
 * The standard row `case | ops/s | mean | p50 | p99 | ratio vs baseline | target | verdict` for a
 * measurement.
 */
export function resultRow(
  name: string,
  m: Pick<Measurement, 'opsPerSec' | 'meanNs' | 'p50Ns' | 'p99Ns'> & {
    readonly ratio?: number | undefined;
    readonly throughputRatio?: number | undefined;
  },
  options: ResultRowOptions = {},
): Row {
  const ratio = options.ratio ?? m.ratio ?? m.throughputRatio;
  return {
    case: name,
    'ops/s': formatOps(m.opsPerSec),
    mean: formatNs(m.meanNs),
    p50: formatNs(m.p50Ns),
    p99: formatNs(m.p99Ns),
    'ratio vs baseline': typeof ratio === 'string' ? ratio : formatRatio(ratio),
    target: options.target ?? '—',
    verdict: typeof options.met === 'string' ? options.met : verdict(options.met),
  };
}

/** Text columns; the others (figures) are right-aligned. */
const LEFT_ALIGNED = new Set(['case', 'target', 'verdict']);

/** Renders rows as a markdown table. Missing cells print `—`; `|` in cells is escaped. */
export function formatTable(rows: readonly Row[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: string | number | undefined) =>
    value === undefined || value === '' ? '—' : String(value).replaceAll('|', '\\|');
  const header = `| ${columns.join(' | ')} |`;
  const rule = `|${columns.map((c, i) => (i === 0 || LEFT_ALIGNED.has(c) ? ' --- ' : ' ---: ')).join('|')}|`;
  const body = rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(' | ')} |`);
  return [header, rule, ...body].join('\n');
}

/**
 * One bench's markdown section: `## title`, what is measured, the table, and notes as a list.
 * A bench prints it to stdout with {@link printSection}.
 */
export function section(
  title: string,
  description: string,
  table: string,
  notes: string | readonly string[] = [],
): string {
  const list = typeof notes === 'string' ? [notes] : notes;
  const parts = [`## ${title}`, description.trim(), table];
  if (list.length > 0) parts.push(list.map((note) => `- ${note}`).join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/** Prints a section to stdout (the runner collects stdout into bench/RESULTS.md). */
export function printSection(markdown: string): void {
  process.stdout.write(`${markdown.trimEnd()}\n\n`);
}

/** Writes a progress line to stderr (shown while running, not collected). */
export function progress(message: string): void {
  process.stderr.write(`  · ${message}\n`);
}

/** One line describing the machine: CPU, cores, memory, Node, OS and the date. */
export function machine(date = new Date()): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const gb = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${model} · ${cpus.length} cores · ${gb} GiB RAM · Node ${process.version} · ${os.platform()} ${os.arch()} · ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
