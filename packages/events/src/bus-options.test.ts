import { describe, expect, it, vi } from 'vitest';
import { resolveBusOptions, resolveHandlerOptions } from './bus-options.js';
import type { HandlerOptions } from './handler.js';

const backoffOf = (backoff?: HandlerOptions['backoff']) =>
  resolveHandlerOptions(backoff === undefined ? {} : { backoff }, {}, 'subscribe "ping" for group "g"')
    .backoff;

describe('handler backoff', () => {
  it('grows exponentially up to max, stretched by at most the jitter', () => {
    const exact = backoffOf({ initial: '100ms', factor: 2, max: '1s', jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(exact)).toEqual([100, 200, 400, 800, 1000, 1000]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    expect(backoffOf({ initial: 100, jitter: 0.5 })(1)).toBe(150);
    vi.restoreAllMocks();
    const defaults = backoffOf();
    for (let i = 0; i < 50; i++) {
      const delay = defaults(1);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(120);
    }
  });

  it('takes a list of delays, repeating the last one', () => {
    const list = backoffOf([10, '1s', 50]);
    expect([1, 2, 3, 4, 9].map(list)).toEqual([10, 1000, 50, 50, 50]);
  });

  it('takes a function, and never returns less than 1 ms', () => {
    expect(backoffOf((attempt) => attempt * 7)(3)).toBe(21);
    expect(backoffOf(() => 0)(1)).toBe(1);
    expect(backoffOf([0])(1)).toBe(1);
    expect(backoffOf({ initial: 0, jitter: 0 })(1)).toBe(1);
  });

  it('refuses bad values with EVENTS_HANDLER_INVALID naming them', () => {
    expect(() => backoffOf({ initial: 'soon' })).toThrow(/backoff: initial: invalid duration "soon"/);
    expect(() => backoffOf({ factor: 0.5 })).toThrow(/factor: use a factor >= 1/);
    expect(() => backoffOf({ jitter: 2 })).toThrow(/backoff: jitter: .*<=1/);
    expect(() => backoffOf([])).toThrow(/at least one delay|a list of delays/);
    expect(() => backoffOf(['x'])).toThrow(expect.objectContaining({ code: 'EVENTS_HANDLER_INVALID' }));
  });
});

describe('handler and bus options', () => {
  it('fall back to the bus defaults, then to the built-in ones', () => {
    const resolved = resolveHandlerOptions({ concurrency: 2 }, { maxAttempts: 3, inbox: true }, 's');
    expect(resolved).toMatchObject({ concurrency: 2, maxAttempts: 3, inbox: true });
    expect(resolveHandlerOptions({}, {}, 's')).toMatchObject({
      concurrency: 16,
      maxAttempts: 5,
      inbox: false,
    });
    expect(resolveBusOptions({ drainTimeout: '2s' })).toEqual({
      inboxRetention: 600_000,
      drainTimeout: 2_000,
    });
  });

  it('refuse bad values with a coded error naming the option', () => {
    expect(() => resolveHandlerOptions({ maxAttempts: 0 }, {}, 's')).toThrow(
      expect.objectContaining({
        code: 'EVENTS_HANDLER_INVALID',
        message: expect.stringContaining('maxAttempts'),
      }),
    );
    expect(() => resolveBusOptions({ inboxRetention: 'a while' })).toThrow(
      expect.objectContaining({
        code: 'EVENTS_CONFIG_INVALID',
        message: expect.stringContaining('inboxRetention'),
      }),
    );
  });
});
