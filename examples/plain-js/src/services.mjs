// The services. Without decorator syntax: `withDependencies` says what each constructor receives (as
// `@injectable()` and `@inject(token)` would), and `decorate` applies method decorators (as `@Cached`
// above the method would).

import { Cached } from '@blueprint/cache';
import { CoreTokens, decorate, withDependencies } from '@blueprint/core';
import { Checkout, Quotes } from './contracts.mjs';

export class QuotesService {
  constructor(settings) {
    this.markup = Number(settings.markupCents ?? 0);
    this.lookups = 0;
  }

  async price({ sku }) {
    this.lookups++;
    return { sku, cents: 100 * sku.length + this.markup };
  }

  async lookupCount() {
    return this.lookups;
  }
}
withDependencies(QuotesService, [CoreTokens.Settings]);
decorate(QuotesService, { price: [Cached({ ttl: '1m' })] });

export class CheckoutService {
  constructor(quotes) {
    this.quotes = quotes;
    this.calls = 0;
  }

  async total({ skus }) {
    let cents = 0;
    for (const sku of skus) cents += (await this.quotes.price({ sku })).cents;
    this.calls++;
    return { cents, lookups: this.calls };
  }
}
withDependencies(CheckoutService, [Quotes]);

export { Checkout, Quotes };
