import {
  type CallContext,
  createApp,
  defineApp,
  defineService,
  injectable,
  NotFoundError,
  RemoteUnavailableError,
  service,
} from '@blueprint/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ResilienceTokens } from './breaker-registry.js';
import { Bulkhead, CircuitBreaker, Fallback, getDecoratedPolicies, Retry, Timeout } from './decorators.js';
import { resiliencePlugin } from './plugin.js';

const Quotes = defineService('quotes', {
  quote: {
    input: z.object({ mode: z.enum(['ok', 'fail', 'hang', 'missing']) }),
    output: z.string(),
    idempotent: true,
  },
});

const created: QuotesService[] = [];

@injectable()
class QuotesService {
  calls = 0;
  signals: (AbortSignal | undefined)[] = [];

  constructor() {
    created.push(this);
  }

  @CircuitBreaker({ consecutiveFailures: 2, failureRate: false, halfOpenAfter: '1s' })
  @Timeout('100ms')
  async quote({ mode }: { mode: string }, context?: CallContext): Promise<string> {
    this.calls++;
    this.signals.push(context?.signal);
    if (mode === 'fail') throw new RemoteUnavailableError('the pricing engine is down');
    if (mode === 'missing') throw new NotFoundError('no such quote');
    if (mode === 'hang') {
      return new Promise((_resolve, reject) =>
        context?.signal?.addEventListener('abort', () => reject(context.signal!.reason)),
      );
    }
    return 'quoted';
  }
}

const RATES = Symbol('rates');

@injectable()
class RatesProvider {
  attempts = 0;
  readonly label = 'cached';

  // Written inside out on purpose: the order of a call is fixed (fallback outermost).
  @Retry({ maxAttempts: 3, backoff: { initial: 10, jitter: 'none' }, budget: false })
  @Fallback(function (this: RatesProvider, error: unknown, currency: string) {
    return `${this.label} ${currency} after ${(error as { code: string }).code}`;
  })
  async rate(currency: string): Promise<string> {
    this.attempts++;
    throw new RemoteUnavailableError(`no rate for ${currency}`);
  }

  @Bulkhead({ maxConcurrent: 1 })
  async exclusive(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'done';
  }

  plain(): string {
    return 'untouched';
  }
}

const app = defineApp({
  name: 'quotes-app',
  services: [service(Quotes, QuotesService)],
  providers: [{ token: RATES, useClass: RatesProvider }],
  plugins: [resiliencePlugin()],
});
const topology = { app: 'x', processes: { main: { services: ['quotes'] } } };

async function start() {
  const instance = await createApp(app, { topology });
  await instance.start();
  return instance;
}

describe('decorators', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('put a breaker and a timeout on a service method, listed in the registry and readiness', async () => {
    const shop = await start();
    const quotes = shop.client(Quotes);
    const registry = shop.resolve(ResilienceTokens.BreakerRegistry);
    expect(registry.list().map((b) => b.name)).toEqual(['QuotesService.quote']);

    await expect(quotes.quote({ mode: 'missing' })).rejects.toBeInstanceOf(NotFoundError);
    const hanging = quotes.quote({ mode: 'hang' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await hanging).toMatchObject({
      code: 'TIMEOUT',
      message: 'QuotesService.quote timed out after 100 ms',
    });
    const impl = created.at(-1)!;
    expect(impl.signals[1]?.aborted).toBe(true);
    expect(impl.signals[1]?.reason).toMatchObject({ code: 'TIMEOUT' });

    await expect(quotes.quote({ mode: 'fail' })).rejects.toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    await expect(quotes.quote({ mode: 'ok' })).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect((await shop.readiness()).checks['breaker:QuotesService.quote']).toMatchObject({
      ok: false,
      details: { state: 'open' },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(quotes.quote({ mode: 'ok' })).resolves.toBe('quoted');
    expect(registry.get('QuotesService.quote')!.state).toBe('closed');

    await shop.stop();
    expect(registry.list()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('give every app its own breakers: nothing is global', async () => {
    const a = await start();
    const b = await start();
    for (let i = 0; i < 2; i++)
      await a
        .client(Quotes)
        .quote({ mode: 'fail' })
        .catch(() => undefined);
    await expect(a.client(Quotes).quote({ mode: 'ok' })).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await expect(b.client(Quotes).quote({ mode: 'ok' })).resolves.toBe('quoted');
    await a.stop();
    await b.stop();
  });

  it('put retry, fallback and bulkhead on a provider, in the fixed order', async () => {
    const shop = await start();
    const rates = shop.resolve<RatesProvider>(RATES);
    const pending = rates.rate('EUR');
    await vi.advanceTimersByTimeAsync(30);
    await expect(pending).resolves.toBe('cached EUR after RETRY_EXHAUSTED');
    expect(rates.attempts).toBe(3);

    const first = rates.exclusive(50);
    await expect(rates.exclusive(1)).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED' });
    await vi.advanceTimersByTimeAsync(50);
    await expect(first).resolves.toBe('done');
    expect(rates.plain()).toBe('untouched');
    expect(Object.hasOwn(rates, 'plain')).toBe(false);
    await shop.stop();
  });

  it('record metadata only; without the plugin nothing changes', async () => {
    expect(getDecoratedPolicies(new RatesProvider(), 'rate')).toMatchObject({
      retry: { maxAttempts: 3 },
      fallback: { handler: expect.any(Function) },
    });
    expect(getDecoratedPolicies(new RatesProvider(), 'plain')).toBeUndefined();
    const bare = defineApp({ name: 'bare', services: [service(Quotes, QuotesService)] });
    const instance = await createApp(bare, { topology });
    await instance.start();
    for (let i = 0; i < 3; i++)
      await instance
        .client(Quotes)
        .quote({ mode: 'fail' })
        .catch(() => undefined);
    await expect(instance.client(Quotes).quote({ mode: 'ok' })).resolves.toBe('quoted');
    await instance.stop();
  });

  it('reject a decorator used twice and invalid options when the class is defined', () => {
    expect(() => {
      class Twice {
        @Timeout(10)
        @Timeout(20)
        async m() {}
      }
      return Twice;
    }).toThrow(/@Timeout is used twice on Twice.m; keep one/);
    expect(() => Timeout(0)).toThrow(/@Timeout\(ms\): use a duration of at least 1 ms \(got 0 ms\)/);
    expect(() => Retry({ maxAttempts: 0 })).toThrow(
      /@Retry\(options\): maxAttempts: use a whole number >= 1 \(got 0\)/,
    );
    expect(() => Bulkhead({ maxConcurrent: 0 })).toThrow(
      /@Bulkhead\(options\): maxConcurrent: use a whole number >= 1 \(got 0\)/,
    );
    expect(() => CircuitBreaker({ failureRate: false })).toThrow(
      /@CircuitBreaker\(options\): can never open/,
    );
    expect(() => Fallback(42 as never)).toThrow(/@Fallback\(handler\): use a function \(got number\)/);
    expect(() => Retry({ baseDelay: 10 } as never)).toThrow(
      /@Retry\(options\): baseDelay: this option was renamed: write backoff.initial instead/,
    );
    expect(() => Retry({ maxDelay: '1s', jitter: 'none' } as never)).toThrow(
      /maxDelay: this option was renamed: write backoff.max instead; jitter: this option was renamed: write backoff.jitter instead/,
    );
  });

  it('let a subclass override a decorated method with its own decorators', () => {
    class Base {
      @Timeout(10)
      async m() {}
    }
    class Child extends Base {
      @Timeout(20)
      override async m() {}
    }
    expect(getDecoratedPolicies(new Child(), 'm')?.timeout).toBe(20);
    expect(getDecoratedPolicies(new Base(), 'm')?.timeout).toBe(10);
  });
});
