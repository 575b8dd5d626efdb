/**
 * The plain-JavaScript example runs the same scenario as one process and as two: dependencies declared
 * with `withDependencies`, `@Cached` applied with `decorate`, no decorator syntax anywhere.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CacheTokens } from '@blueprint/cache';
import { type BlueprintApp, createApp } from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePort } from '../../../test/harness/index.js';
import { app } from '../src/app.mjs';
import { Checkout } from '../src/services.mjs';

const topology = (name: string) => fileURLToPath(new URL(`../topology/${name}.json`, import.meta.url));
const quiet = { write: () => undefined };
const running: BlueprintApp[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.stop()));
});

async function start(name: 'monolith' | 'split') {
  if (name === 'monolith') {
    const main = await createApp(app, { topology: topology('monolith'), env: {}, logDestination: quiet });
    running.push(main);
    await main.start();
    return { caller: main, pricing: main };
  }
  const env = {
    SERVICE_SECRET: randomBytes(32).toString('base64url'),
    PRICING_PORT: String(await getFreePort()),
    FRONT_PORT: String(await getFreePort()),
  };
  const pricing = await createApp(app, {
    topology: topology('split'),
    process: 'pricing',
    env,
    logDestination: quiet,
  });
  const front = await createApp(app, {
    topology: topology('split'),
    process: 'front',
    env,
    logDestination: quiet,
  });
  running.push(front, pricing);
  await pricing.start();
  await front.start();
  return { caller: front, pricing };
}

describe.each(['monolith', 'split'] as const)('plain JavaScript, %s', (name) => {
  it('injects the declared dependencies and caches the decorated method', async () => {
    const { caller, pricing } = await start(name);
    // 'ab' costs 2 × 100 plus the markup the settings inject (5).
    expect(await caller.client(Checkout).total({ skus: ['ab', 'abc'] })).toEqual({ cents: 510, lookups: 1 });
    expect(await caller.client(Checkout).total({ skus: ['ab', 'abc'] })).toEqual({ cents: 510, lookups: 2 });
    const stats = pricing.resolve(CacheTokens.Cache).stats();
    expect(stats.misses).toBe(2);
    expect(stats.hits).toBe(2);
  });

  it('refuses bad input with the contract schema', async () => {
    const { caller } = await start(name);
    await expect(caller.client(Checkout).total({ skus: [] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
