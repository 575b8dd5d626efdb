import { describe, expect, it, vi } from 'vitest';
import { toBackoffFunction } from './backoff.js';

describe('toBackoffFunction', () => {
  it('grows exponentially up to max, stretched by at most the jitter', () => {
    const exact = toBackoffFunction({ initial: '100ms', factor: 2, max: '1s', jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(exact)).toEqual([100, 200, 400, 800, 1000, 1000]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    expect(toBackoffFunction({ initial: 100, jitter: 0.5 })(1)).toBe(150);
    vi.restoreAllMocks();
    const defaults = toBackoffFunction();
    for (let i = 0; i < 50; i++) {
      const delay = defaults(1);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(120);
    }
  });

  it('takes a list of delays, repeating the last one', () => {
    const list = toBackoffFunction([10, '1s', 50]);
    expect([1, 2, 3, 4, 9].map(list)).toEqual([10, 1000, 50, 50, 50]);
  });

  it('takes a function, and never returns less than 1 ms', () => {
    expect(toBackoffFunction((attempt) => attempt * 7)(3)).toBe(21);
    expect(toBackoffFunction(() => 0)(1)).toBe(1);
    expect(toBackoffFunction([0])(1)).toBe(1);
    expect(toBackoffFunction({ initial: 0, jitter: 0 })(1)).toBe(1);
  });

  it('refuses bad values with EVENTS_HANDLER_INVALID naming them', () => {
    expect(() => toBackoffFunction({ initial: 'soon' })).toThrow(/invalid backoff initial "soon"/);
    expect(() => toBackoffFunction({ factor: 0.5 })).toThrow(/factor must be >= 1/);
    expect(() => toBackoffFunction({ jitter: 2 })).toThrow(/jitter between 0 and 1/);
    expect(() => toBackoffFunction([])).toThrow(/at least one delay/);
    expect(() => toBackoffFunction(['x'])).toThrow(
      expect.objectContaining({ code: 'EVENTS_HANDLER_INVALID' }),
    );
  });
});
