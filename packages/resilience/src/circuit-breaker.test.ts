import { NotFoundError, RemoteUnavailableError } from '@blueprint/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectRefusedUnrun } from '../../../test/harness/refusals.js';
import type { CircuitBreakerPolicy, CircuitStateChange } from './breaker-policy.js';
import { BreakerRegistry } from './breaker-registry.js';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError, isBrokenCircuitError } from './errors.js';

const down = () => Promise.reject(new RemoteUnavailableError('payments is down'));
const up = () => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreakerPolicy, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(down)).rejects.toThrow('payments is down');
}

describe('circuitBreaker', () => {
  let changes: CircuitStateChange[];
  let breaker: CircuitBreakerPolicy;

  beforeEach(() => {
    vi.useFakeTimers();
    changes = [];
  });
  afterEach(() => {
    breaker?.dispose();
    vi.useRealTimers();
  });

  const make = (options: Parameters<typeof circuitBreaker>[0]) => {
    breaker = circuitBreaker({ name: 'payments', ...options });
    breaker.onStateChange((change) => changes.push(change));
    return breaker;
  };

  it('opens after the consecutive-failure threshold and rejects without calling while open', async () => {
    make({ consecutiveFailures: 3, failureRate: false, halfOpenAfter: 1_000 });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.isOpen).toBe(true);

    const error = await expectRefusedUnrun(breaker, {
      errorClass: BrokenCircuitError,
      guard: isBrokenCircuitError,
      fields: {
        code: 'CIRCUIT_OPEN',
        status: 503,
        details: { breaker: 'payments', state: 'open', retryAfterMs: 1_000 },
      },
    });
    expect((error as Error).cause).toBeInstanceOf(RemoteUnavailableError);
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual(['closed>open']);
    expect(changes[0]!.error).toBeInstanceOf(RemoteUnavailableError);
  });

  it('a success resets the consecutive count', async () => {
    make({ consecutiveFailures: 3, failureRate: false });
    await failTimes(breaker, 2);
    await breaker.execute(up);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(2);
  });

  it('opens on the failure rate once the minimum volume is reached', async () => {
    make({ failureRate: 50, minimumCalls: 6, halfOpenAfter: 1_000 });
    for (let i = 0; i < 3; i++) await breaker.execute(up);
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('closed'); // 3 of 6 = 50%, not more
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open'); // 4 of 7
    expect(breaker.stats()).toMatchObject({ calls: 7, failures: 4, successes: 3, state: 'open' });
  });

  it('does not judge the rate below the minimum volume', async () => {
    make({ failureRate: 10, minimumCalls: 5 });
    await failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('forgets failures that left the rolling window', async () => {
    make({ failureRate: 50, minimumCalls: 4, window: 1_000 });
    await failTimes(breaker, 3);
    vi.advanceTimersByTime(1_100);
    await breaker.execute(up);
    await breaker.execute(up);
    await breaker.execute(up);
    await failTimes(breaker, 1);
    expect(breaker.stats()).toMatchObject({ calls: 4, failures: 1 });
    expect(breaker.state).toBe('closed');
  });

  it('half-opens after the duration, lets one probe through, and closes when it succeeds', async () => {
    make({ consecutiveFailures: 2, failureRate: false, halfOpenAfter: 1_000 });
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(999);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.isOpen).toBe(false);

    let finishProbe!: (value: string) => void;
    const probe = breaker.execute(() => new Promise<string>((resolve) => (finishProbe = resolve)));
    const other = vi.fn(up);
    await expect(breaker.execute(other)).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      details: { state: 'half-open' },
    });
    expect(other).not.toHaveBeenCalled();
    finishProbe('probed');
    await expect(probe).resolves.toBe('probed');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(up)).resolves.toBe('ok');
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>closed',
    ]);
  });

  it('re-opens when the probe fails, for another full duration', async () => {
    make({ consecutiveFailures: 2, failureRate: false, halfOpenAfter: 1_000 });
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(1_000);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(999);
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>open',
      'open>half-open',
    ]);
  });

  it('does not count answers below 500 as failures; such an answer closes a half-open breaker', async () => {
    make({ consecutiveFailures: 2, failureRate: false, halfOpenAfter: 100 });
    const notFound = () => Promise.reject(new NotFoundError('no such order'));
    for (let i = 0; i < 5; i++) await expect(breaker.execute(notFound)).rejects.toThrow('no such order');
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 2);
    vi.advanceTimersByTime(100);
    await expect(breaker.execute(notFound)).rejects.toBeInstanceOf(NotFoundError);
    expect(breaker.state).toBe('closed');
  });

  it('counts synchronous throws and accepts plain values', async () => {
    make({ consecutiveFailures: 1, failureRate: false });
    await expect(breaker.execute(() => 42)).resolves.toBe(42);
    await expect(
      breaker.execute(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
  });

  it('reports stats and joins a registry until disposed, leaving no timer', async () => {
    const registry = new BreakerRegistry();
    const seen: string[] = [];
    registry.onStateChange((c) => seen.push(`${c.breaker}:${c.to}`));
    make({ consecutiveFailures: 1, failureRate: false, halfOpenAfter: 5_000, registry });
    expect(registry.get('payments')).toBe(breaker);
    await failTimes(breaker, 1);
    await expect(breaker.execute(up)).rejects.toThrow(BrokenCircuitError);
    vi.advanceTimersByTime(2_000);
    expect(registry.snapshot()).toEqual([
      expect.objectContaining({
        name: 'payments',
        state: 'open',
        calls: 1,
        failures: 1,
        rejected: 1,
        retryAfterMs: 3_000,
        lastFailure: { code: 'REMOTE_UNAVAILABLE', message: 'payments is down', at: expect.any(Number) },
      }),
    ]);
    expect(seen).toEqual(['payments:open']);
    expect(vi.getTimerCount()).toBe(2); // the bucket rotation and the half-open timer
    breaker.dispose();
    expect(registry.list()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    await expect(breaker.execute(up)).rejects.toThrow(/disposed/);
  });

  it('creates no timer per call: one timer while in use rotates the window, none when idle or disposed', async () => {
    make({ window: 1_000 });
    expect(vi.getTimerCount()).toBe(0);
    for (let i = 0; i < 5; i++) await breaker.execute(up);
    await failTimes(breaker, 1);
    expect(vi.getTimerCount()).toBe(1);
    await vi.runAllTimersAsync(); // terminates: an idle breaker re-arms nothing
    expect(vi.getTimerCount()).toBe(0);
    await breaker.execute(up);
    expect(vi.getTimerCount()).toBe(1);
    breaker.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects options that would never open or are out of range', () => {
    expect(() => circuitBreaker({ failureRate: false })).toThrow(/can never open/);
    expect(() => circuitBreaker({ failureRate: 120 })).toThrow(
      /breaker "circuit-breaker": failureRate: use a percentage from 0 to 100, e.g. 50 \(got 120\)/,
    );
    expect(() => circuitBreaker({ name: 'payments', halfOpenAfter: 'soon' })).toThrow(
      /breaker "payments": halfOpenAfter: invalid duration "soon"/,
    );
    expect(() => circuitBreaker({ consecutiveFailures: 0 })).toThrow(
      /consecutiveFailures: use a whole number >= 1 \(got 0\)/,
    );
    expect(() => circuitBreaker({ window: 5 })).toThrow(/window: use at least 1 ms per bucket/);
    expect(() => circuitBreaker({ failureRate: 0 }).dispose()).not.toThrow();
  });
});
