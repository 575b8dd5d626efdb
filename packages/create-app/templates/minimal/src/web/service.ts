/**
 * The web service: serves the route table of `routes.ts` on Fastify (see `../http-api.ts`), on the port
 * of the topology's `settings.port` (`PORT`, default 3000). The routes call the contracts' clients, local
 * or remote as the topology decides.
 *
 *   POST /users                {"name":"Ada","email":"ada@example.com"}  registers a user
 *   GET  /users/:id            one user
 *   GET  /users/:userId/emails the emails the mailer sent to that user
 *   GET  /openapi.json         the OpenAPI document of these routes
 */
import { httpApiService } from "../http-api.js";
import { Web } from "./contract.js";
import { routes } from "./routes.js";

/** Implements {@link Web}: no methods, an HTTP server with the users and mailer clients its routes call. */
export const WebService = httpApiService(Web, routes);
