/**
 * What the store outage tests (`outage`, `memcached-outage`) share: the timeout bounds, cleanup after
 * each test, timing of calls, and the calls through a server that stops answering (blackhole) until
 * the breaker opens and once it is open.
 */

import type { Cache } from '@blueprint/cache';
import { waitFor } from '@blueprint/core/testing';
import { afterEach, expect } from 'vitest';

/** The command timeout the outage tests give the store. */
export const COMMAND_TIMEOUT = 50;
/** Generous headroom over the command timeout: the machine is shared with other test runs. */
export const SLACK = 200;

/** Steps run in reverse order after each test of the file that imports this module. */
export const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Count, mean, median and max of call durations in milliseconds. */
export function summarize(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return {
    calls: sorted.length,
    meanMs: +mean.toFixed(3),
    p50Ms: +sorted[Math.floor(sorted.length / 2)]!.toFixed(3),
    maxMs: +sorted.at(-1)!.toFixed(3),
  };
}

/** Runs `call` and resolves to its value and how long it took. */
export async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started };
}

/**
 * Calls `getOrSet('k', loader)` while the store's server is silent: until the breaker opens (at most 3
 * calls), then 200 calls with it open; every call answers the loader's value. Resolves to the durations.
 */
export async function callsThroughSilence(
  store: { readonly breakerState: string },
  cache: Cache,
  loader: () => Promise<string>,
): Promise<{ waiting: number[]; open: number[] }> {
  const waiting: number[] = [];
  while (store.breakerState === 'closed') {
    const { value, ms } = await timed(() => cache.getOrSet('k', loader, { ttl: '1m' }));
    expect(value).toBe('loaded');
    waiting.push(ms);
    expect(waiting.length).toBeLessThanOrEqual(3);
  }
  const open: number[] = [];
  for (let i = 0; i < 200; i++) {
    const { value, ms } = await timed(() => cache.getOrSet('k', loader, { ttl: '1m' }));
    expect(value).toBe('loaded');
    open.push(ms);
  }
  return { waiting, open };
}

/** Checks every call waited for the command timeout, and not much longer. */
export function expectCommandTimeoutWaits(waiting: readonly number[]): void {
  for (const ms of waiting) {
    expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 5);
    expect(ms).toBeLessThan(COMMAND_TIMEOUT + SLACK);
  }
}

/**
 * Lets the server answer again (`proxy` back to `pass`), waits until calls through `probeKey` close the
 * breaker, and checks a value stored afterwards reads back.
 */
export async function expectRecoveryAfterSilence(
  proxy: { setMode(mode: 'pass'): Promise<unknown> },
  store: { readonly breakerState: string },
  cache: Cache,
  probe: { key: string; loader: () => Promise<string>; server: string },
): Promise<void> {
  await proxy.setMode('pass');
  await waitFor(
    async () => {
      await cache.getOrSet(probe.key, probe.loader, { ttl: '1m' });
      return store.breakerState === 'closed';
    },
    { timeout: 10_000, interval: 50, message: `the breaker to close once ${probe.server} answers` },
  );
  await cache.set('after', 'stored', { ttl: '1m' });
  expect(await cache.get('after')).toBe('stored');
}
