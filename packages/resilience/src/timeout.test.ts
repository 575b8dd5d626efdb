import { AbortedError, TimeoutError } from '@blueprint/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isTimeoutError } from './errors.js';
import { timeout } from './timeout.js';

/** Work that never ends unless its signal aborts. */
const hang = ({ signal }: { signal?: AbortSignal | undefined }) =>
  new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));

describe('timeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rejects with TIMEOUT after the limit and aborts the signal given to the work', async () => {
    const policy = timeout(100, { name: 'products.get' });
    let seen: AbortSignal | undefined;
    const result = policy
      .execute((context) => {
        seen = context.signal;
        return hang(context);
      })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      message: 'products.get timed out after 100 ms',
      details: { timeoutMs: 100 },
    });
    expect(seen!.aborted).toBe(true);
    expect(seen!.reason).toBe(error);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out work that ignores its signal', async () => {
    const result = timeout(50)
      .execute(() => new Promise(() => {}))
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ code: 'TIMEOUT' });
  });

  it('passes results, errors and synchronous values through', async () => {
    const policy = timeout(1_000);
    await expect(policy.execute(async () => 'ok')).resolves.toBe('ok');
    await expect(policy.execute(() => 7)).resolves.toBe(7);
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(policy.execute(async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
  });

  it('serves many pending calls with one timer and stops it once nothing is pending', async () => {
    const policy = timeout(100);
    const results = Array.from({ length: 50 }, (_, i) =>
      policy
        .execute(() => new Promise((resolve) => setTimeout(() => resolve(i), i < 25 ? 10 : 500)))
        .catch((e: Error) => e.message),
    );
    expect(vi.getTimerCount()).toBe(51); // 50 of the work, 1 of the policy
    await vi.advanceTimersByTimeAsync(100);
    const values = await Promise.all(results);
    expect(values.slice(0, 25)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(new Set(values.slice(25))).toEqual(new Set(['operation timed out after 100 ms']));
    await vi.advanceTimersByTimeAsync(500);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps deadlines of calls started at different times', async () => {
    const policy = timeout(100);
    const start = Date.now();
    const first = policy.execute(hang).catch(() => Date.now() - start);
    await vi.advanceTimersByTimeAsync(40);
    const second = policy.execute(hang).catch(() => Date.now() - start);
    await vi.advanceTimersByTimeAsync(200);
    expect(await Promise.all([first, second])).toEqual([100, 140]);
  });

  it('creates no AbortController when the work does not read the signal', async () => {
    const created = vi.spyOn(globalThis, 'AbortController');
    await timeout(100).execute(async () => 'ok');
    expect(created).not.toHaveBeenCalled();
    created.mockRestore();
  });

  it('never runs past the context deadline', async () => {
    const result = timeout(1_000)
      .execute(hang, { deadline: Date.now() + 30 })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(30);
    expect(await result).toMatchObject({ code: 'TIMEOUT', message: 'operation ran out of its deadline' });
  });

  it('fails at once when the deadline already passed', async () => {
    const fn = vi.fn(async () => 'ok');
    await expect(timeout(100).execute(fn, { deadline: Date.now() - 1 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects when the caller aborts, and aborts the work with the same reason', async () => {
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const result = timeout(1_000)
      .execute(
        (context) => {
          inner = context.signal;
          return hang(context);
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    controller.abort();
    const error = await result;
    expect(error).toBeInstanceOf(AbortedError);
    expect(inner!.reason).toBe(error);
  });

  it('rejects at once when the caller already aborted', async () => {
    const fn = vi.fn(async () => 'ok');
    const reason = new TimeoutError('upstream deadline');
    await expect(timeout(100).execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('links nested timeouts: the outer one aborts the inner signal', async () => {
    const outer = timeout(50, { name: 'deadline' });
    const inner = timeout(1_000, { name: 'attempt' });
    let signal: AbortSignal | undefined;
    const result = outer
      .execute((context) =>
        inner.execute((innerContext) => {
          signal = innerContext.signal;
          return hang(innerContext);
        }, context),
      )
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ message: 'deadline timed out after 50 ms' });
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toMatchObject({ message: 'deadline timed out after 50 ms' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('dispose() clears the timer and times out what still runs', async () => {
    const policy = timeout(10_000);
    const result = policy.execute(hang).catch((e: unknown) => e);
    expect(vi.getTimerCount()).toBe(1);
    policy.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(await result).toMatchObject({ code: 'TIMEOUT' });
  });

  it('rejects invalid limits', () => {
    expect(() => timeout(0)).toThrow(/timeout\(ms\): use a duration of at least 1 ms \(got 0 ms\)/);
    expect(() => timeout('1 week')).toThrow(/timeout\(ms\): invalid duration "1 week"/);
    expect(timeout('2s').ms).toBe(2_000);
  });
});
