/**
 * The public HTTP API: a service that serves a route table on Fastify, on the port of the topology's
 * `settings.port` (`PORT`, default 3000), from the start of its process to its stop. The routes call the
 * contracts' clients, local or remote as the topology decides.
 */
import type { AddressInfo } from "node:net";
import {
	type AnyContract,
	CoreTokens,
	type OnStart,
	type OnStop,
	type Telemetry,
	withDependencies,
} from "@blueprint/core";
import type { Routes } from "@blueprint/http";
import {
	blueprintFastify,
	blueprintFastifyOptions,
} from "@blueprint/http/fastify";
import Fastify, { type FastifyInstance } from "fastify";

type Settings = Readonly<Record<string, string | number | boolean>>;

/**
 * The class that implements `contract` (a contract without methods) by serving `routes`. It is given the
 * client of every contract the routes call, so a new route needs only its `route(...)` line.
 *
 * @example
 * export const WebService = httpApiService(Web, routes);
 */
export function httpApiService(contract: AnyContract, routes: Routes) {
	const called = [...routes.contracts.values()];

	class HttpApiService implements OnStart, OnStop {
		private server: FastifyInstance | undefined;
		private readonly clients: Record<string, object>;

		constructor(
			private readonly settings: Settings,
			private readonly telemetry: Telemetry,
			...clients: object[]
		) {
			this.clients = Object.fromEntries(
				called.map((one, index) => [one.name, clients[index] as object]),
			);
		}

		/** Listens on `settings.port` once the process starts. */
		async onStart(): Promise<void> {
			const server = Fastify(blueprintFastifyOptions());
			await server.register(blueprintFastify, {
				routes,
				clients: this.clients,
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
			console.log(`${contract.name}: listening on http://localhost:${port}`);
		}

		/** Stops accepting requests and waits for the ones in flight. */
		async onStop(): Promise<void> {
			await this.server?.close();
		}
	}

	// Named after the contract (`WebService` for `web`), as the app's errors name it.
	const words = contract.name.split(/[^A-Za-z0-9]+/);
	const name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1));
	Object.defineProperty(HttpApiService, "name", {
		value: `${name.join("")}Service`,
	});
	return withDependencies(HttpApiService, [
		CoreTokens.Settings,
		CoreTokens.Telemetry,
		...called,
	]);
}
