/**
 * Step 2: the product routes of the Express app, now served from the contract. Same paths, same
 * answers; Blueprint maps the query and the path onto the input, and errors onto statuses.
 */
import { defineRoutes, route } from '@blueprint/http';
import { Products } from './products/contract.js';

/** The public routes served from contracts. `POST /orders` is still the Express app's own route. */
export const routes = defineRoutes(
  [route(Products, 'list', 'GET /products'), route(Products, 'get', 'GET /products/:id')],
  { title: 'shop', version: '1.0.0' },
);
