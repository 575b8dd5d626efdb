/**
 * The shop's public API as a route table: each route is a contract method at a method and path. The
 * adapter maps path, query and body onto the method's input, answers its output as JSON, errors through
 * the one error table, and describes it all at `/openapi.json`.
 */
import { defineRoutes, route } from '@blueprint/http';
import { Orders } from '../orders/contract.js';
import { Products } from '../products/contract.js';

/** The public routes of the shop. */
export const shopRoutes = defineRoutes(
  [
    route(Products, 'list', 'GET /products'),
    route(Products, 'get', 'GET /products/:id'),
    route(Orders, 'place', 'POST /orders', { status: 201 }),
    route(Orders, 'get', 'GET /orders/:id'),
  ],
  { title: 'shop', version: '1.0.0', description: 'The public API of the Blueprint example shop.' },
);
