/**
 * The shop app: four services and the plugins they use. The same object runs as a monolith or as four
 * processes; `topology/*.json` decides which.
 */
import { cachePlugin } from '@blueprint/cache';
import { defineApp, service } from '@blueprint/core';
import { eventsPlugin } from '@blueprint/events';
import { resiliencePlugin } from '@blueprint/resilience';
import { Gateway } from './gateway/contract.js';
import { GatewayService } from './gateway/service.js';
import { Orders } from './orders/contract.js';
import { OrdersService } from './orders/service.js';
import { Payments } from './payments/contract.js';
import { PaymentsService } from './payments/service.js';
import { Products } from './products/contract.js';
import { ProductsService } from './products/service.js';

/** The shop. */
export const app = defineApp({
  name: 'shop',
  services: [
    service(Products, ProductsService),
    service(Orders, OrdersService),
    service(Payments, PaymentsService),
    service(Gateway, GatewayService),
  ],
  plugins: [resiliencePlugin(), cachePlugin(), eventsPlugin()],
});

export default app;
