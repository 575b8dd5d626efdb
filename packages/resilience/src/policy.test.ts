import { NotFoundError, RemoteUnavailableError } from '@blueprint/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead.js';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError } from './errors.js';
import { fallback } from './fallback.js';
import { type Policy, type PolicyContext, type PolicyTask, wrap } from './policy.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';

/** A policy that records when it enters and leaves. */
function tracer(name: string, log: string[]): Policy {
  return {
    async execute<T>(fn: PolicyTask<T>, context?: PolicyContext) {
      log.push(`${name}>`);
      try {
        return await fn(context ?? {});
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe('wrap', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('nests policies with the first one outermost', async () => {
    const log: string[] = [];
    const policy = wrap(tracer('a', log), tracer('b', log), tracer('c', log));
    await expect(policy.execute(() => log.push('fn'))).resolves.toBe(4);
    expect(log).toEqual(['a>', 'b>', 'c>', 'fn', '<c', '<b', '<a']);
    expect(policy.policies).toHaveLength(3);
  });

  it('runs the function as it is with no policies', async () => {
    await expect(wrap().execute(() => 1)).resolves.toBe(1);
    await expect(
      wrap().execute(() => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
  });

  it('passes derived contexts inward: retry attempt numbers reach the work through a timeout', async () => {
    const attempts: (number | undefined)[] = [];
    const policy = wrap(retry({ budget: false, backoff: { initial: 1, jitter: 'none' } }), timeout(1_000));
    const result = policy.execute(async ({ attempt }) => {
      attempts.push(attempt);
      if (attempt === 1) throw new RemoteUnavailableError('down');
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2]);
  });

  it('retry outside a breaker stops as soon as the breaker opens', async () => {
    const breaker = circuitBreaker({ consecutiveFailures: 2, failureRate: false });
    const fn = vi.fn(async () => {
      throw new RemoteUnavailableError('down');
    });
    const result = wrap(retry({ budget: false, maxAttempts: 5, backoff: { initial: 1 } }), breaker)
      .execute(fn)
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    const error = await result;
    expect(fn).toHaveBeenCalledTimes(2);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    breaker.dispose();
  });

  it('dispose() disposes every policy', async () => {
    const policy = wrap(timeout(1_000), circuitBreaker({ halfOpenAfter: 100, consecutiveFailures: 1 }));
    await policy.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    policy.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('fallback', () => {
  it('replaces failures of the dependency with a value or a computed substitute', async () => {
    await expect(
      fallback([]).execute(() => Promise.reject(new RemoteUnavailableError('down'))),
    ).resolves.toEqual([]);
    const computed = fallback((error) => `fallback after ${(error as Error).message}`);
    await expect(computed.execute(() => Promise.reject(new Error('boom')))).resolves.toBe(
      'fallback after boom',
    );
    await expect(computed.execute(() => 'fine')).resolves.toBe('fine');
  });

  it('lets answers of the dependency through, and follows `when`', async () => {
    const notFound = new NotFoundError('no such user');
    await expect(fallback('x').execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    const always = fallback('x', { when: () => true });
    await expect(always.execute(() => Promise.reject(notFound))).resolves.toBe('x');
  });

  it('covers rejections of the policies it wraps', async () => {
    const policy = wrap(fallback('busy'), bulkhead({ maxConcurrent: 1 }));
    const first = policy.execute(() => new Promise((resolve) => setTimeout(() => resolve('done'), 1)));
    await expect(policy.execute(async () => 'second')).resolves.toBe('busy');
    await expect(first).resolves.toBe('done');
  });
});
