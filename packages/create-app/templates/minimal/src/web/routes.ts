/**
 * The public HTTP API as a route table: each route is one contract method at an HTTP method and path.
 * `@blueprint/http` maps the path, query and body onto the method's zod input, answers its output as
 * JSON, turns coded errors into their status (404, 409, 400, ...) with one error body, and describes
 * every route at `GET /openapi.json`.
 */
import { defineRoutes, route } from "@blueprint/http";
import { Mailer } from "../mailer/contract.js";
import { Users } from "../users/contract.js";

/** The routes the web service serves. */
export const routes = defineRoutes(
	[
		route(Users, "register", "POST /users", { status: 201 }),
		route(Users, "get", "GET /users/:id"),
		route(Mailer, "sentTo", "GET /users/:userId/emails"),
	],
	{ title: "__APP_NAME__", version: "0.1.0" },
);
