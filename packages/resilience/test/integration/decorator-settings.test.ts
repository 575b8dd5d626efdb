/**
 * The decorators under both of TypeScript's decorator settings (legacy `experimentalDecorators` and TC39
 * standard decorators): the same source gets the same policies from `resiliencePlugin()`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DECORATOR_SETTINGS, importCompiled } from '../../../../test/harness/index.js';

const source = `
import { createApp, defineApp } from '@blueprint/core';
import { Bulkhead, CircuitBreaker, Fallback, Retry, Timeout, resiliencePlugin, ResilienceTokens } from '@blueprint/resilience';

const unavailable = () => Object.assign(new Error('rates are down'), { code: 'REMOTE_UNAVAILABLE' });

export class Rates {
  attempts = 0;
  @Fallback((error) => 'fallback after ' + error.code)
  @Retry({ maxAttempts: 3, backoff: [1], budget: false })
  async rate() {
    this.attempts++;
    throw unavailable();
  }
  @CircuitBreaker({ consecutiveFailures: 1, failureRate: false })
  @Timeout('20ms')
  async slow() {
    return new Promise(() => {});
  }
  @Bulkhead({ maxConcurrent: 1 })
  async exclusive(ms) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'done';
  }
}

export const RATES = Symbol('rates');

export async function start() {
  const app = defineApp({ name: 'rates', services: [], providers: [{ token: RATES, useClass: Rates }], plugins: [resiliencePlugin()] });
  const instance = await createApp(app, { topology: { app: 'x', processes: { main: { services: [] } } } });
  await instance.start();
  return { app: instance, rates: instance.resolve(RATES), registry: instance.resolve(ResilienceTokens.BreakerRegistry) };
}
`;

const twice = `
import { Timeout } from '@blueprint/resilience';
export class Twice {
  @Timeout(10)
  @Timeout(20)
  async m() {}
}
`;

interface Started {
  app: { stop(): Promise<void> };
  rates: {
    attempts: number;
    rate(): Promise<string>;
    slow(): Promise<never>;
    exclusive(ms: number): Promise<string>;
  };
  registry: { list(): readonly { name: string; state: string }[] };
}

describe.each(DECORATOR_SETTINGS)('the decorators with %s decorators', (setting) => {
  afterEach(() => vi.useRealTimers());

  it('put their policies on a provider, in the fixed order', async () => {
    const mod = await importCompiled('resilience-decorators', source, setting);
    vi.useFakeTimers();
    const { app, rates, registry } = await (mod.start as () => Promise<Started>)();
    try {
      const rate = rates.rate();
      await vi.advanceTimersByTimeAsync(2);
      await expect(rate).resolves.toBe('fallback after RETRY_EXHAUSTED');
      expect(rates.attempts).toBe(3);
      const slow = rates.slow().catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(20);
      expect(await slow).toMatchObject({ code: 'TIMEOUT' });
      await expect(rates.slow()).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
      expect(registry.list().map((b) => [b.name, b.state])).toEqual([['Rates.slow', 'open']]);
      const first = rates.exclusive(20);
      await expect(rates.exclusive(1)).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED' });
      await vi.advanceTimersByTimeAsync(20);
      await expect(first).resolves.toBe('done');
    } finally {
      await app.stop();
    }
  });

  it('refuse a decorator used twice when the class is defined', async () => {
    await expect(importCompiled('resilience-twice', twice, setting)).rejects.toMatchObject({
      code: 'RESILIENCE_INVALID_OPTIONS',
      message: expect.stringMatching(/^@Timeout is used twice on (Twice\.)?m; keep one$/),
    });
  });
});
