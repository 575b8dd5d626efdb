// The app: the same object in every topology.
import { cachePlugin } from '@blueprint/cache';
import { defineApp, service } from '@blueprint/core';
import { Checkout, CheckoutService, Quotes, QuotesService } from './services.mjs';

export const app = defineApp({
  name: 'plain-js',
  services: [service(Quotes, QuotesService), service(Checkout, CheckoutService)],
  plugins: [cachePlugin()],
});
