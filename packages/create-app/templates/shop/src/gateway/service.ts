/**
 * The gateway: serves the shop's route table of `routes.ts` on Fastify (see `../http-api.ts`), on the
 * port of the topology's `settings.port` (`PORT`, default 3000). The routes call the contracts' clients,
 * local or remote as the topology decides.
 *
 *   GET  /products                  the catalog
 *   GET  /products/:id              one product
 *   POST /orders                    {"productId":"p-keyboard","quantity":2}  places an order
 *   GET  /orders/:id                one order: pending, then paid or payment_failed
 *   GET  /orders/:orderId/payment   its payment
 *   GET  /openapi.json              the OpenAPI document of these routes
 */
import { httpApiService } from "../http-api.js";
import { Gateway } from "./contract.js";
import { routes } from "./routes.js";

/**
 * Implements {@link Gateway}: no methods, an HTTP server with the products, orders and payments clients
 * its routes call.
 */
export const GatewayService = httpApiService(Gateway, routes);
