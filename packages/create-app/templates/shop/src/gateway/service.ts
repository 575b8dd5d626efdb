/**
 * The gateway: serves the shop's route table of `routes.ts` on Fastify, on the port of the topology's
 * `settings.port` (`PORT`, default 3000). The routes call the contracts' clients, local or remote as
 * the topology decides.
 *
 *   GET  /products                  the catalog
 *   GET  /products/:id              one product
 *   POST /orders                    {"productId":"p-keyboard","quantity":2}  places an order
 *   GET  /orders/:id                one order: pending, then paid or payment_failed
 *   GET  /orders/:orderId/payment   its payment
 *   GET  /openapi.json              the OpenAPI document of these routes
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
import { Orders } from "../orders/contract.js";
import { Payments } from "../payments/contract.js";
import { Products } from "../products/contract.js";
import type { Gateway } from "./contract.js";
import { routes } from "./routes.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** Implements {@link Gateway}: no methods, an HTTP server. */
@injectable()
export class GatewayService
	implements ImplementationOf<typeof Gateway>, OnStart, OnStop
{
	private server: FastifyInstance | undefined;

	constructor(
		@injectService(Products)
		private readonly products: ClientOf<typeof Products>,
		@injectService(Orders) private readonly orders: ClientOf<typeof Orders>,
		@injectService(Payments)
		private readonly payments: ClientOf<typeof Payments>,
		@inject(CoreTokens.Settings) private readonly settings: Settings,
		@inject(CoreTokens.Telemetry) private readonly telemetry: Telemetry,
	) {}

	/** Listens on `settings.port` once the process starts. */
	async onStart(): Promise<void> {
		const server = Fastify(blueprintFastifyOptions());
		await server.register(blueprintFastify, {
			routes,
			clients: {
				products: this.products,
				orders: this.orders,
				payments: this.payments,
			},
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
		console.log(`gateway: listening on http://localhost:${port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		await this.server?.close();
	}
}
