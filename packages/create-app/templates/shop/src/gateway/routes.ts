/**
 * The shop's public HTTP API as a route table: each route is one contract method at an HTTP method and
 * path. `@blueprint/http` maps the path, query and body onto the method's zod input, answers its output
 * as JSON, turns coded errors into their status (404, 409 for `OUT_OF_STOCK`, 400, ...) with one error
 * body, and describes every route at `GET /openapi.json`. `products.reserve` and `products.release`
 * are not public: only the orders service calls them.
 */
import { defineRoutes, route } from "@blueprint/http";
import { Orders } from "../orders/contract.js";
import { Payments } from "../payments/contract.js";
import { Products } from "../products/contract.js";

/** The routes the gateway serves. */
export const routes = defineRoutes(
	[
		route(Products, "list", "GET /products"),
		route(Products, "get", "GET /products/:id"),
		route(Orders, "place", "POST /orders", { status: 201 }),
		route(Orders, "get", "GET /orders/:id"),
		route(Payments, "forOrder", "GET /orders/:orderId/payment"),
	],
	{ title: "__APP_NAME__", version: "0.1.0" },
);
