import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectRefusedUnrun } from '../../../test/harness/refusals.js';
import { bulkhead } from './bulkhead.js';
import { BulkheadRejectedError, isBulkheadRejectedError } from './errors.js';

/** A task that resolves when `release(n)` is called. */
function gate() {
  const releases: (() => void)[] = [];
  const started: number[] = [];
  const task = (n: number) => () =>
    new Promise<number>((resolve) => {
      started.push(n);
      releases[n] = () => resolve(n);
    });
  return { task, started, release: (n: number) => releases[n]!() };
}

describe('bulkhead', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs up to maxConcurrent calls, queues up to maxQueue in order, rejects the overflow at once', async () => {
    const policy = bulkhead({ name: 'reports', maxConcurrent: 2, maxQueue: 1 });
    const { task, started, release } = gate();
    const a = policy.execute(task(0));
    const b = policy.execute(task(1));
    const c = policy.execute(task(2));
    await expectRefusedUnrun(policy, {
      errorClass: BulkheadRejectedError,
      guard: isBulkheadRejectedError,
      fields: {
        code: 'BULKHEAD_REJECTED',
        status: 503,
        details: { bulkhead: 'reports', maxConcurrent: 2, maxQueue: 1, reason: 'full' },
      },
    });
    expect(started).toEqual([0, 1]);
    expect([policy.active, policy.queued]).toEqual([2, 1]);
    release(1);
    await expect(b).resolves.toBe(1);
    expect(started).toEqual([0, 1, 2]);
    release(0);
    release(2);
    await expect(Promise.all([a, c])).resolves.toEqual([0, 2]);
    expect([policy.active, policy.queued]).toEqual([0, 0]);
  });

  it('frees the slot when the call fails or throws synchronously', async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    await expect(policy.execute(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(
      policy.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(policy.execute(async () => 'ok')).resolves.toBe('ok');
    expect(policy.active).toBe(0);
  });

  it('rejects a queued call after maxWait', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 5, maxWait: '200ms' });
    const { task, release } = gate();
    const running = policy.execute(task(0));
    const waiting = policy.execute(task(1)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    expect(await waiting).toMatchObject({ code: 'BULKHEAD_REJECTED', details: { reason: 'max-wait' } });
    expect(policy.queued).toBe(0);
    release(0);
    await running;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes a queued call whose caller aborts', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const { task, started, release } = gate();
    const running = policy.execute(task(0));
    const controller = new AbortController();
    const waiting = policy.execute(task(1), { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await waiting).toMatchObject({ code: 'ABORTED' });
    release(0);
    await running;
    expect(started).toEqual([0]);
  });

  it('dispose() rejects what waits', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 5, maxWait: 1_000 });
    const { task, release } = gate();
    const running = policy.execute(task(0));
    const waiting = policy.execute(task(1)).catch((e: unknown) => e);
    policy.dispose();
    expect(await waiting).toMatchObject({ code: 'BULKHEAD_REJECTED', details: { reason: 'disposed' } });
    expect(vi.getTimerCount()).toBe(0);
    release(0);
    await running;
  });

  it('rejects invalid limits', () => {
    expect(() => bulkhead({ maxConcurrent: 0 })).toThrow(
      /bulkhead "bulkhead": maxConcurrent: use a whole number >= 1 \(got 0\)/,
    );
    expect(() => bulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(
      /maxQueue: use a whole number >= 0 \(got -1\)/,
    );
  });
});
