/**
 * The Blueprint app of the migrated shop: so far one service, products. The topology decides whether it
 * runs inside the Express process (`topology/monolith.json`) or in its own (`topology/split.json`).
 */
import { defineApp, service } from '@blueprint/core';
import { openDatabase } from './database.js';
import { Products } from './products/contract.js';
import { ProductsDatabase, ProductsService } from './products/service.js';

/** The app definition (`"app": "src/app.ts"` in the topologies). */
export const app = defineApp({
  name: 'express-migration',
  services: [service(Products, ProductsService)],
  providers: [
    { token: ProductsDatabase, useFactory: () => openDatabase(process.env.PRODUCTS_DATABASE ?? ':memory:') },
  ],
});
