import {
  AbortedError,
  ConflictError,
  InternalError,
  NotFoundError,
  RemoteUnavailableError,
  TimeoutError,
  ValidationError,
} from '@blueprint/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokenCircuitError, isRetryExhaustedError, RetryExhaustedError } from './errors.js';
import { type RetryOptions, retry } from './retry.js';
import { retryBudget } from './retry-budget.js';
import { recordDelays } from './testing/record-delays.js';

const unavailable = () => new RemoteUnavailableError('products cannot be reached');

/** A function that fails `failures` times with `error()`, then returns 'ok'. */
function flaky(failures: number, error: () => unknown = unavailable) {
  return vi.fn(async () => {
    if (failures-- > 0) throw error();
    return 'ok';
  });
}

describe('retry', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits the exponential backoff between attempts, on real (fake) timers', async () => {
    const fn = flaky(3);
    const policy = retry({
      maxAttempts: 4,
      backoff: { initial: 100, max: 1_000, jitter: 'none' },
      budget: false,
    });
    const result = policy.execute(fn);
    await vi.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(400);
    await expect(result).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(4);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('caps the delay and applies full jitter through the injected random source', async () => {
    const { delay, delays } = recordDelays();
    const randoms = [0.5, 0.5, 0.5, 0.5, 0.25];
    const policy = retry({
      maxAttempts: 6,
      backoff: { initial: '100ms', max: '1s' },
      budget: false,
      delay,
      random: () => randoms.shift()!,
    });
    await expect(policy.execute(flaky(5))).resolves.toBe('ok');
    expect(delays).toEqual([50, 100, 200, 400, 250]);
  });

  it('passes the attempt number and the caller signal to each attempt', async () => {
    const { delay } = recordDelays();
    const seen: unknown[] = [];
    const controller = new AbortController();
    await retry({ budget: false, delay }).execute(
      async ({ attempt, signal }) => {
        seen.push([attempt, signal === controller.signal]);
        if (attempt! < 3) throw unavailable();
        return attempt;
      },
      { signal: controller.signal },
    );
    expect(seen).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
  });

  it('retries transport failures and timeouts by default', async () => {
    const { delay } = recordDelays();
    const error = (code: string) => Object.assign(new Error(code), { code });
    for (const make of [unavailable, () => new TimeoutError('slow'), () => error('ECONNRESET')]) {
      const fn = flaky(1, make);
      await expect(retry({ budget: false, delay }).execute(fn)).resolves.toBe('ok');
      expect(fn).toHaveBeenCalledTimes(2);
    }
  });

  it.each([
    ['VALIDATION_FAILED', () => new ValidationError('bad input')],
    ['NOT_FOUND', () => new NotFoundError('no such product')],
    ['CONFLICT', () => new ConflictError('already reserved')],
    ['INTERNAL', () => new InternalError('bug')],
    ['CIRCUIT_OPEN', () => new BrokenCircuitError('open')],
    ['ABORTED', () => new AbortedError('caller left')],
    ['an uncoded error', () => new Error('oops')],
  ])('never retries %s, and rethrows it unchanged', async (_name, make) => {
    const error = make();
    const fn = vi.fn(async () => {
      throw error;
    });
    await expect(retry({ budget: false, delay: recordDelays().delay }).execute(fn)).rejects.toBe(error);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxAttempts with RETRY_EXHAUSTED keeping every cause', async () => {
    const errors = [unavailable(), new TimeoutError('slow'), unavailable()];
    let i = 0;
    const fn = vi.fn(async () => {
      throw errors[i++];
    });
    const error = await retry({
      maxAttempts: 3,
      budget: false,
      delay: recordDelays().delay,
      name: 'products.get',
    })
      .execute(fn)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(isRetryExhaustedError(error)).toBe(true);
    const exhausted = error as RetryExhaustedError;
    expect(exhausted.causes).toEqual(errors);
    expect(exhausted.cause).toBe(errors[2]);
    expect(exhausted.status).toBe(503);
    expect(exhausted.message).toMatch(/products.get: all 3 attempts failed/);
    expect(exhausted.details).toEqual({
      attempts: 3,
      reason: 'max-attempts',
      codes: ['REMOTE_UNAVAILABLE', 'TIMEOUT', 'REMOTE_UNAVAILABLE'],
    });
  });

  it('rethrows a non-retryable error of a later attempt as it is', async () => {
    let n = 0;
    const notFound = new NotFoundError('gone');
    const fn = async () => {
      if (n++ === 0) throw unavailable();
      throw notFound;
    };
    await expect(retry({ budget: false, delay: recordDelays().delay }).execute(fn)).rejects.toBe(notFound);
  });

  it('honours a custom predicate', async () => {
    const fn = flaky(2, () => new ConflictError('busy'));
    const policy = retry({
      budget: false,
      delay: recordDelays().delay,
      shouldRetry: (e) => (e as Error).name === 'ConflictError',
    });
    await expect(policy.execute(fn)).resolves.toBe('ok');
  });

  it('stops waiting when the caller aborts during the backoff', async () => {
    const controller = new AbortController();
    const fn = flaky(5);
    const result = retry({ backoff: { initial: 1_000, jitter: 'none' }, budget: false })
      .execute(fn, { signal: controller.signal })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    controller.abort();
    const error = await result;
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not start a wait that would end past the deadline', async () => {
    const fn = flaky(5);
    const result = retry({ backoff: { initial: 100, jitter: 'none' }, budget: false, maxAttempts: 5 })
      .execute(fn, { deadline: Date.now() + 250 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toMatchObject({
      code: 'RETRY_EXHAUSTED',
      details: { reason: 'deadline', attempts: 2 },
    });
    expect(fn).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('dispose() cancels the waits in progress', async () => {
    const policy = retry({ backoff: { initial: 1_000, jitter: 'none' }, budget: false });
    const result = policy.execute(flaky(5)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(1);
    policy.dispose();
    expect(await result).toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets listeners see each retry', async () => {
    const policy = retry({ budget: false, delay: recordDelays().delay, random: () => 0.5 });
    const events: unknown[] = [];
    const off = policy.onRetry((e) => events.push([e.attempt, e.delay, (e.error as Error).message]));
    await policy.execute(flaky(2));
    off();
    await policy.execute(flaky(1));
    expect(events).toEqual([
      [1, 50, 'products cannot be reached'],
      [2, 100, 'products cannot be reached'],
    ]);
  });

  it('rejects invalid options with a coded error naming the option', () => {
    expect(() => retry({ maxAttempts: 0 })).toThrow(
      /retry\(options\): maxAttempts: use a whole number >= 1 \(got 0\)/,
    );
    expect(() => retry({ backoff: { initial: 'fast' } })).toThrow(
      /retry\(options\): backoff.initial: invalid duration "fast"/,
    );
    expect(() => retry({ backoff: { jitter: 'half' as 'full' } })).toThrow(
      /backoff.jitter: invalid jitter "half": use "full", "none" or a number from 0 to 1/,
    );
    expect(() => retry({ backoff: [] })).toThrow(/backoff: a list of delays needs at least one delay/);
    expect(() => retry({ shouldRetry: 3 as never })).toThrow(/shouldRetry: use a function \(got number\)/);
    expect(() => retry({ budget: { ratio: -1 } })).toThrow(
      /retry\(options\).budget: ratio: use a ratio >= 0/,
    );
    expect(() => retry({ maxAttempts: 0 })).toThrow(
      expect.objectContaining({ code: 'RESILIENCE_INVALID_OPTIONS' }),
    );
    expect(() => retryBudget({ window: 5 })).toThrow(
      /retryBudget\(options\): window: use a duration of at least 10 ms \(got 5 ms\)/,
    );
  });

  it('rejects the options renamed into backoff, naming the new option', () => {
    const old = (options: Record<string, unknown>) => () => retry(options as RetryOptions);
    expect(old({ baseDelay: '50ms' })).toThrow(
      /retry\(options\): baseDelay: this option was renamed: write backoff.initial instead/,
    );
    expect(old({ maxDelay: '1s' })).toThrow(/maxDelay: this option was renamed: write backoff.max instead/);
    expect(old({ jitter: 'none' })).toThrow(/jitter: this option was renamed: write backoff.jitter instead/);
    expect(old({ baseDelay: '50ms' })).toThrow(
      expect.objectContaining({ code: 'RESILIENCE_INVALID_OPTIONS' }),
    );
  });

  it('takes every backoff shape of core: a factor, a stretching jitter, a list of delays, a function', async () => {
    const delaysOf = async (backoff: RetryOptions['backoff'], random = () => 0.5) => {
      const { delay, delays } = recordDelays();
      await retry({ maxAttempts: 5, backoff, budget: false, delay, random }).execute(flaky(4));
      return delays;
    };
    expect(await delaysOf({ initial: 10, factor: 3, jitter: 'none' })).toEqual([10, 30, 90, 270]);
    expect(await delaysOf({ initial: 100, max: 300, jitter: 0.5 })).toEqual([125, 250, 375, 375]);
    expect(await delaysOf(['1s', '5s'])).toEqual([1_000, 5_000, 5_000, 5_000]);
    expect(await delaysOf((attempt) => attempt * 7)).toEqual([7, 14, 21, 28]);
    // The defaults: 100 ms doubling up to 2 s, full jitter.
    expect(await delaysOf(undefined, () => 0.999_999)).toEqual([99, 199, 399, 799]);
  });
});

describe('retry budget', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets retries add at most `ratio` of the calls (above minRetries)', async () => {
    const budget = retryBudget({ ratio: 0.2, minRetries: 0, window: '10s' });
    const policy = retry({ budget, delay: recordDelays().delay, maxAttempts: 3 });
    let attempts = 0;
    const alwaysFirstFails = () => {
      let first = true;
      return async () => {
        attempts++;
        if (first) {
          first = false;
          throw unavailable();
        }
        return 'ok';
      };
    };
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () =>
        policy.execute(alwaysFirstFails()).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      ),
    );
    expect(attempts).toBeLessThanOrEqual(120);
    expect(attempts).toBeGreaterThanOrEqual(119);
    expect(outcomes.filter((o) => o === 'ok').length).toBe(attempts - 100);
    expect(budget.stats()).toMatchObject({ calls: 100, allowed: 20 });
    expect(budget.stats().retries).toBe(attempts - 100);
  });

  it('always allows minRetries per window, and forgets old calls', () => {
    const budget = retryBudget({ ratio: 0.1, minRetries: 2, window: 1_000 });
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 30; i++) budget.recordCall();
    expect(budget.tryRetry()).toBe(true); // 31 calls × 0.1 = 3.1 allowed
    expect(budget.tryRetry()).toBe(false);
    expect(budget.stats()).toEqual({ calls: 31, retries: 3, refused: 2, allowed: 3 });
    vi.advanceTimersByTime(1_000);
    expect(budget.stats()).toEqual({ calls: 0, retries: 0, refused: 0, allowed: 2 });
  });

  it('throws the error itself when the budget refuses the first retry', async () => {
    const budget = retryBudget({ ratio: 0, minRetries: 0 });
    const error = unavailable();
    const fn = vi.fn(async () => {
      throw error;
    });
    await expect(retry({ budget, delay: recordDelays().delay }).execute(fn)).rejects.toBe(error);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('reports a spent budget after a retry as RETRY_EXHAUSTED', async () => {
    const budget = retryBudget({ ratio: 0, minRetries: 1 });
    const error = await retry({ budget, delay: recordDelays().delay, maxAttempts: 5 })
      .execute(flaky(9))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RETRY_EXHAUSTED', details: { reason: 'budget', attempts: 2 } });
  });
});
