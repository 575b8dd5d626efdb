/**
 * The web service: serves the route table of `routes.ts` on Fastify, on the port of the topology's
 * `settings.port` (`PORT`, default 3000). The routes call the contracts' clients, local or remote as
 * the topology decides.
 *
 *   POST /users                {"name":"Ada","email":"ada@example.com"}  registers a user
 *   GET  /users/:id            one user
 *   GET  /users/:userId/emails the emails the mailer sent to that user
 *   GET  /openapi.json         the OpenAPI document of these routes
 */
import type { AddressInfo } from "node:net";
import {
	type ClientOf,
	CoreTokens,
	type ImplementationOf,
	inject,
	injectable,
	injectService,
	type OnStart,
	type OnStop,
	type Telemetry,
} from "@blueprint/core";
import {
	blueprintFastify,
	blueprintFastifyOptions,
} from "@blueprint/http/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import { Mailer } from "../mailer/contract.js";
import { Users } from "../users/contract.js";
import type { Web } from "./contract.js";
import { routes } from "./routes.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** Implements {@link Web}: no methods, an HTTP server. */
@injectable()
export class WebService
	implements ImplementationOf<typeof Web>, OnStart, OnStop
{
	private server: FastifyInstance | undefined;

	constructor(
		@injectService(Users) private readonly users: ClientOf<typeof Users>,
		@injectService(Mailer) private readonly mailer: ClientOf<typeof Mailer>,
		@inject(CoreTokens.Settings) private readonly settings: Settings,
		@inject(CoreTokens.Telemetry) private readonly telemetry: Telemetry,
	) {}

	/** Listens on `settings.port` once the process starts. */
	async onStart(): Promise<void> {
		const server = Fastify(blueprintFastifyOptions());
		await server.register(blueprintFastify, {
			routes,
			clients: { users: this.users, mailer: this.mailer },
			// A request log line, a duration metric and a span per request, as the app's calls get.
			telemetry: this.telemetry,
			bodyLimit: "64kb",
		});
		await server.listen({
			port: Number(this.settings.port ?? 3000),
			host: "0.0.0.0",
		});
		this.server = server;
		const { port } = server.server.address() as AddressInfo;
		console.log(`web: listening on http://localhost:${port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		await this.server?.close();
	}
}
