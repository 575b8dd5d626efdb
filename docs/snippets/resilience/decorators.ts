// #region quotes
import { type CallContext, type ImplementationOf, inject, injectable } from '@blueprint/core';
import { CircuitBreaker, Fallback, Retry, Timeout } from '@blueprint/resilience';
import { PricingEngine, type QuoteInput, type Quotes } from './quotes.js';

@injectable()
class QuotesService implements ImplementationOf<typeof Quotes> {
  constructor(@inject(PricingEngine) private readonly engine: PricingEngine) {}

  @Fallback(function (this: QuotesService, _error, input) {
    return this.engine.lastKnown(input);
  })
  @CircuitBreaker({ consecutiveFailures: 5, halfOpenAfter: '10s' })
  @Retry({ maxAttempts: 3 })
  @Timeout('250ms')
  async quote(input: QuoteInput, context?: CallContext) {
    return this.engine.price(input, { signal: context?.signal });
  }
}

// #endregion quotes

import assert from 'node:assert/strict';
import { createApp, defineApp, service } from '@blueprint/core';
import { resiliencePlugin } from '@blueprint/resilience';
import { Quotes as QuotesContract } from './quotes.js';

// An engine that never answers but stops when told: each attempt times out, the fallback answers.
const aborted: unknown[] = [];
const engine: PricingEngine = {
  price: (_input, { signal }) =>
    new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => {
        aborted.push(signal.reason);
        reject(signal.reason);
      });
    }),
  lastKnown: () => ({ total: 90, live: false }),
};
const app = await createApp(
  defineApp({
    name: 'shop',
    services: [service(QuotesContract, QuotesService)],
    providers: [{ token: PricingEngine, useValue: engine }],
    plugins: [resiliencePlugin()],
  }),
  { topology: { app: 'src/app.ts', processes: { main: { services: ['quotes'] } } } },
);
await app.start();
assert.deepEqual(await app.client(QuotesContract).quote({ productId: 'p1', quantity: 2 }), {
  total: 90,
  live: false,
});
assert.equal(aborted.length, 3);
await app.stop();
