/**
 * What the store outage tests (`outage`, `memcached-outage`) share: the timeout bounds, the stores' options
 * and a cache over them closed after each test, warming it, timing of calls, and the calls through a server that stops
 * answering (blackhole) until the breaker opens, once it is open, and once it answers again.
 */

import { randomUUID } from 'node:crypto';
import { type Cache, createCache } from '@blueprint/cache';
import type { CacheStore } from '@blueprint/cache/transport';
import { waitFor } from '@blueprint/core/testing';
import { afterEach, expect } from 'vitest';
import type { FaultProxy } from '../../../../../test/harness/index.js';

/** The command timeout the outage tests give the store. */
export const COMMAND_TIMEOUT = 50;
/** Generous headroom over the command timeout: the machine is shared with other test runs. */
export const SLACK = 200;

/** Steps run in reverse order after each test of the file that imports this module. */
export const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The options every outage test's store starts from: a prefix of its own, `commandTimeout` (default
 * {@link COMMAND_TIMEOUT}) and a breaker that opens after 3 failures, for `openFor`.
 */
export function outageStoreOptions(openFor: string, commandTimeout = COMMAND_TIMEOUT) {
  return { prefix: `test:${randomUUID().slice(0, 8)}:`, commandTimeout, breaker: { threshold: 3, openFor } };
}

/** A connected cache over `store`, closed after the test, and the errors it reports (`onError`). */
export async function outageCache<S extends CacheStore>(
  store: S,
): Promise<{ store: S; cache: Cache; errors: unknown[] }> {
  const errors: unknown[] = [];
  const cache = createCache({ store, onError: (error) => errors.push(error) });
  cleanups.push(() => cache.close());
  await cache.connect();
  return { store, cache, errors };
}

/**
 * Stores `cached <key>` under each of `keys` and reads them back, retrying: a 50 ms command timeout can
 * trip on a loaded machine.
 */
export async function warm(cache: Cache, keys: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      await Promise.all(keys.map((key) => cache.set(key, `cached ${key}`, { ttl: '10m' })));
      const read = await Promise.all(keys.map((key) => cache.get(key)));
      return read.every((value, i) => value === `cached ${keys[i]}`);
    },
    { timeout: 10_000, interval: 50, message: 'the cache to store and read the keys' },
  );
}

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

/** Runs `call(i)` for each `i` below `count`, one after another; checks each answers `expected`. Resolves to the durations. */
export async function timedCalls(
  count: number,
  call: (i: number) => Promise<unknown>,
  expected: unknown,
): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const { value, ms } = await timed(() => call(i));
    expect(value).toBe(expected);
    durations.push(ms);
  }
  return durations;
}

/** Checks no call took longer than `commandTimeout` (default {@link COMMAND_TIMEOUT}) and the slack. */
export function expectWithinCommandTimeout(
  durations: readonly number[],
  commandTimeout = COMMAND_TIMEOUT,
): void {
  expect(Math.max(...durations)).toBeLessThan(commandTimeout + SLACK);
}

/**
 * Calls `getOrSet('k', loader)` while the store's server is silent: until the breaker opens (at most 3
 * calls), then 200 calls with it open; every call answers the loader's value. Resolves to the durations.
 */
async function callsThroughSilence(
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
  const open = await timedCalls(200, () => cache.getOrSet('k', loader, { ttl: '1m' }), 'loaded');
  return { waiting, open };
}

/** Checks every call waited for the command timeout, and not much longer. */
function expectCommandTimeoutWaits(waiting: readonly number[]): void {
  for (const ms of waiting) {
    expect(ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT - 5);
    expect(ms).toBeLessThan(COMMAND_TIMEOUT + SLACK);
  }
}

/**
 * Lets the server answer again (`proxy` back to `pass`), waits until calls through `probeKey` close the
 * breaker, and checks a value stored afterwards reads back.
 */
async function expectRecoveryAfterSilence(
  proxy: Pick<FaultProxy, 'setMode'>,
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

/**
 * The server behind `proxy` stops answering (blackhole) while `cache` is called: calls wait for the
 * command timeout, at least once and until the breaker opens; with the breaker open the median call
 * takes under `openMedianMs`. Then the server answers again, the breaker closes (calls through `probeKey`)
 * and a value stored afterwards reads back. Logs the durations under `server`'s name.
 */
export async function expectSilenceBounded(
  proxy: Pick<FaultProxy, 'setMode'>,
  store: { readonly breakerState: string },
  cache: Cache,
  options: { server: string; probeKey: string; openMedianMs: number },
): Promise<void> {
  const loader = async () => 'loaded';
  await proxy.setMode('blackhole');
  const { waiting, open } = await callsThroughSilence(store, cache, loader);
  const whileWaiting = summarize(waiting);
  const whileOpen = summarize(open);
  console.log(`[cache outage] ${options.server} silent, per call within the command timeout:`, whileWaiting);
  console.log(`[cache outage] ${options.server} silent, per call once the breaker is open:`, whileOpen);
  expect(waiting.length).toBeGreaterThanOrEqual(1);
  expectCommandTimeoutWaits(waiting);
  expect(whileOpen.p50Ms).toBeLessThan(options.openMedianMs);

  await expectRecoveryAfterSilence(proxy, store, cache, {
    key: options.probeKey,
    loader,
    server: options.server,
  });
}
