/**
 * Two real processes and a fault proxy between them: the caller's breaker must make calls fail fast
 * when the callee dies, goes silent or hangs its half-open probe, and let calls through again once it
 * is back; retries must stay within their budget; nothing may be left running after stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type BlueprintApp, createApp } from '@blueprint/core';
import { createHttpRpcClient } from '@blueprint/core/rpc';
import { waitFor } from '@blueprint/core/testing';
import {
  type BreakerRegistry,
  type CircuitBreakerPolicy,
  type CircuitStateChange,
  ResilienceTokens,
} from '@blueprint/resilience';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultProxy, getFreePort, startFaultProxy } from '../../../../test/harness/index.js';
import { Store, storeApp, storeTopology } from './fixtures/store.js';

const CALLEE = fileURLToPath(new URL('./fixtures/callee.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** Starts the callee on `port` and resolves once it listens. */
async function startCallee(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CALLEE], {
    cwd: REPO,
    env: { ...process.env, CALLEE_PORT: String(port) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the callee exited with ${code} before listening: ${output}`)),
    );
  });
  child.removeAllListeners('exit');
  return child;
}

async function killCallee(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

interface Outcome {
  /** performance.now() when the call ended. */
  readonly at: number;
  readonly ms: number;
  readonly code: string;
}

/**
 * Calls `store.get` from `workers` loops until stopped, recording each outcome. Each worker pauses 2 ms
 * between calls so an open breaker does not turn the loop into a busy spin on this shared machine.
 */
function load(app: BlueprintApp, workers = 4) {
  const outcomes: Outcome[] = [];
  let running = true;
  const client = app.client(Store);
  const loop = async (w: number) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      const code = await client.get({ id: `w${w}-${i}` }).then(
        () => 'OK',
        (error: { code?: string }) => error.code ?? 'UNCODED',
      );
      const at = performance.now();
      outcomes.push({ at, ms: at - started, code });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  const since = (t: number) => outcomes.filter((o) => o.at >= t);
  return {
    outcomes,
    since,
    /** Waits for the first call that succeeds after `t`; returns when it ended. */
    firstSuccessAfter: async (t: number, message: string): Promise<number> => {
      await waitFor(() => since(t).some((o) => o.code === 'OK'), { message, timeout: 10_000 });
      return since(t).find((o) => o.code === 'OK')!.at;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The 99th percentile of the outcomes' durations, in ms. */
function p99(outcomes: readonly Outcome[]): number {
  const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

/**
 * What both fault scenarios promise: the breaker opens within 3 s of the fault, and calls fail fast
 * (p99 under 100 ms) while it is open.
 */
function expectFailsFast(faultAt: number, openedAt: number, whileOpen: readonly Outcome[]): void {
  expect(openedAt - faultAt).toBeLessThan(3_000);
  expect(p99(whileOpen)).toBeLessThan(100);
}

const resourceCounts = () => {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
};

/** Policies of the fault scenarios: quick timeouts and a short open period so the test stays short. */
const FAULT_POLICIES = {
  default: {
    timeout: '300ms',
    deadline: '2s',
    retry: { maxAttempts: 2, backoff: { initial: '20ms' } },
    breaker: { consecutiveFailures: 5, halfOpenAfter: '600ms' },
  },
};

describe('resilience between two processes, through a fault proxy', () => {
  let callee: ChildProcess | undefined;
  let proxy: FaultProxy | undefined;
  let caller: BlueprintApp | undefined;

  afterEach(async () => {
    await caller?.stop();
    await proxy?.close();
    await killCallee(callee);
    caller = undefined;
    proxy = undefined;
    callee = undefined;
  });

  async function setup(policies: unknown) {
    const port = await getFreePort();
    callee = await startCallee(port);
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    caller = await createApp(storeApp, {
      topology: storeTopology(proxy.url('http'), policies),
      process: 'caller',
    });
    await caller.start();
    const registry: BreakerRegistry = caller.resolve(ResilienceTokens.BreakerRegistry);
    const breaker = registry.get('store') as CircuitBreakerPolicy;
    const changes: (CircuitStateChange & { t: number })[] = [];
    breaker.onStateChange((change) => changes.push({ ...change, t: performance.now() }));
    return { port, breaker, changes };
  }

  it('callee killed: calls fail fast once the breaker opens, and succeed again when it is back', async () => {
    const baseline = resourceCounts();
    const { port, breaker, changes } = await setup(FAULT_POLICIES);
    const traffic = load(caller!);
    await waitFor(() => traffic.outcomes.filter((o) => o.code === 'OK').length >= 20, {
      message: '20 calls',
    });

    const killedAt = performance.now();
    await killCallee(callee);
    await waitFor(() => breaker.state === 'open', { message: 'the breaker to open', timeout: 10_000 });
    const openedAt = changes.find((c) => c.to === 'open')!.t;
    await waitFor(() => traffic.since(openedAt).filter((o) => o.code === 'CIRCUIT_OPEN').length >= 400, {
      message: '400 fast failures',
    });
    const whileOpen = traffic.since(openedAt).filter((o) => o.code === 'CIRCUIT_OPEN');
    const firstFastFail = whileOpen[0]!.at;

    callee = await startCallee(port);
    const backAt = performance.now();
    const recoveredAt = await traffic.firstSuccessAfter(
      backAt,
      'a call to succeed after the callee came back',
    );
    await traffic.stop();

    const failuresBeforeOpen = traffic.outcomes.filter((o) => o.at >= killedAt && o.at < openedAt);
    const figures = {
      'kill → breaker open (ms)': Math.round(openedAt - killedAt),
      'kill → first CIRCUIT_OPEN (ms)': Math.round(firstFastFail - killedAt),
      'calls failed before it opened': failuresBeforeOpen.length,
      'p99 of calls while open (ms)': Number(p99(whileOpen).toFixed(2)),
      'callee back → first success (ms)': Math.round(recoveredAt - backAt),
    };
    console.log('[resilience] callee killed:', JSON.stringify(figures));

    expectFailsFast(killedAt, openedAt, whileOpen);
    expect(breaker.state).toBe('closed');
    expect(changes.map((c) => c.to)).toEqual(expect.arrayContaining(['open', 'half-open', 'closed']));

    await caller!.stop();
    await proxy!.close();
    await killCallee(callee);
    await waitFor(
      () => {
        const now = resourceCounts();
        return Object.entries(now).every(([type, count]) => count <= (baseline[type] ?? 0));
      },
      { message: 'no handle left beyond the baseline', timeout: 5_000 },
    ).catch(() => {
      throw new Error(
        `handles left after stop(): ${JSON.stringify(resourceCounts())}, before: ${JSON.stringify(baseline)}`,
      );
    });
  });

  it('callee silent (blackhole), then a half-open probe that hangs: others still fail fast, the probe times out', async () => {
    const { breaker, changes } = await setup(FAULT_POLICIES);
    const traffic = load(caller!);
    await waitFor(() => traffic.outcomes.filter((o) => o.code === 'OK').length >= 20, {
      message: '20 calls',
    });

    const silentAt = performance.now();
    await proxy!.setMode('blackhole');
    await waitFor(() => breaker.state === 'open', { message: 'the breaker to open', timeout: 10_000 });
    const openedAt = changes.find((c) => c.to === 'open')!.t;

    // Still silent: the breaker half-opens, its probe hangs until the 300 ms attempt timeout, and it re-opens.
    await waitFor(() => changes.filter((c) => c.to === 'open').length >= 2, {
      message: 'the breaker to re-open after its probe timed out',
      timeout: 10_000,
    });
    const halfOpen = changes.find((c) => c.to === 'half-open')!;
    const reopened = changes.filter((c) => c.to === 'open')[1]!;
    const duringProbe = traffic.outcomes.filter((o) => o.at > halfOpen.t && o.at < reopened.t);
    const rejectedDuringProbe = duringProbe.filter((o) => o.code === 'CIRCUIT_OPEN');
    const whileOpen = traffic.since(openedAt).filter((o) => o.code === 'CIRCUIT_OPEN');

    await proxy!.setMode('pass');
    const passAt = performance.now();
    const recoveredAt = await traffic.firstSuccessAfter(passAt, 'calls to succeed again');
    await traffic.stop();

    const figures = {
      'silence → breaker open (ms)': Math.round(openedAt - silentAt),
      'p99 of calls while open (ms)': Number(p99(whileOpen).toFixed(2)),
      'probe hang → re-open (ms)': Math.round(reopened.t - halfOpen.t),
      'calls rejected while the probe hung': rejectedDuringProbe.length,
      'p99 of those (ms)': Number(p99(rejectedDuringProbe).toFixed(2)),
      'proxy back → first success (ms)': Math.round(recoveredAt - passAt),
    };
    console.log('[resilience] callee silent:', JSON.stringify(figures));

    expectFailsFast(silentAt, openedAt, whileOpen);
    expect(reopened.t - halfOpen.t).toBeGreaterThanOrEqual(250);
    expect(reopened.t - halfOpen.t).toBeLessThan(2_000);
    expect(rejectedDuringProbe.length).toBeGreaterThan(0);
    expect(p99(rejectedDuringProbe)).toBeLessThan(100);
    expect(reopened.error).toMatchObject({ code: 'TIMEOUT' });
    expect(breaker.state).toBe('closed');
  });

  it('retries while the breaker is closed add at most 20% load, counted by the callee', async () => {
    // Every first attempt hangs until its 150 ms attempt timeout: without a budget, each call would
    // reach the callee twice.
    const { port } = await setup({
      default: {
        timeout: '150ms',
        retry: { maxAttempts: 3, backoff: { initial: '1ms', max: '5ms' } },
        breaker: { minimumCalls: 100_000 },
      },
    });
    const client = caller!.client(Store);
    const calls = 300;
    let next = 0;
    const outcomes: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < calls) {
          const id = `item-${next++}`;
          outcomes.push(
            await client.flaky({ id }).then(
              () => 'OK',
              (e: { code: string }) => e.code,
            ),
          );
        }
      }),
    );
    const direct = createHttpRpcClient({ url: `http://127.0.0.1:${port}` });
    const served = (await direct.call('store', 'stats', undefined)) as { flaky: number };
    await direct.close();
    const amplification = served.flaky / calls;
    const ok = outcomes.filter((o) => o === 'OK').length;
    console.log(
      '[resilience] retry amplification:',
      JSON.stringify({
        calls,
        'served by the callee': served.flaky,
        amplification,
        'calls that succeeded': ok,
      }),
    );
    expect(amplification).toBeLessThanOrEqual(1.2);
    expect(amplification).toBeGreaterThan(1.1);
    // A retry can reach the callee before its own first attempt does (or instead of it): then it is the
    // one that hangs, so not every retry succeeds.
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(served.flaky - calls);
    for (const code of outcomes.filter((o) => o !== 'OK'))
      expect(['TIMEOUT', 'RETRY_EXHAUSTED']).toContain(code);
  });
});
