/**
 * The gateway: the shop's HTTP API over the products, orders and payments contracts, on the port of
 * the topology's `settings.port` (`PORT`, default 3000). It calls the contracts' clients, local or
 * remote as the topology decides.
 *
 *   GET  /products                 the catalog
 *   GET  /products/:id             one product
 *   POST /orders                   {"productId":"p-keyboard","quantity":2}  places an order
 *   GET  /orders/:id               one order: pending, then paid or payment_failed
 *   GET  /orders/:id/payment       its payment
 */
import type { IncomingMessage } from "node:http";
import {
	type ClientOf,
	CoreTokens,
	type ImplementationOf,
	inject,
	injectable,
	injectService,
	type OnStart,
	type OnStop,
} from "@blueprint/core";
import {
	type JsonApi,
	noRoute,
	ok,
	type Reply,
	readJson,
	startJsonApi,
} from "../http/json-api.js";
import { Orders } from "../orders/contract.js";
import { Payments } from "../payments/contract.js";
import { Products } from "../products/contract.js";
import type { Gateway } from "./contract.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** Implements {@link Gateway}: no methods, an HTTP server. */
@injectable()
export class GatewayService
	implements ImplementationOf<typeof Gateway>, OnStart, OnStop
{
	private api: JsonApi | undefined;

	constructor(
		@injectService(Products)
		private readonly products: ClientOf<typeof Products>,
		@injectService(Orders) private readonly orders: ClientOf<typeof Orders>,
		@injectService(Payments)
		private readonly payments: ClientOf<typeof Payments>,
		@inject(CoreTokens.Settings) private readonly settings: Settings,
	) {}

	/** Listens on `settings.port` once the process starts. */
	async onStart(): Promise<void> {
		this.api = await startJsonApi(
			Number(this.settings.port ?? 3000),
			(request, url) => this.route(request, url),
		);
		console.log(`gateway: listening on http://localhost:${this.api.port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		await this.api?.close();
	}

	private async route(request: IncomingMessage, url: URL): Promise<Reply> {
		const path = url.pathname.split("/").filter(Boolean);
		const [collection, id, detail, ...rest] = path;
		const get = request.method === "GET";
		if (collection === "products" && detail === undefined) {
			if (get && id === undefined) return ok(await this.products.list());
			if (get && id !== undefined) return ok(await this.products.get({ id }));
		}
		if (collection === "orders" && rest.length === 0) {
			if (request.method === "POST" && id === undefined) {
				const input = (await readJson(request)) as {
					productId: string;
					quantity: number;
				};
				return { status: 201, body: await this.orders.place(input) };
			}
			if (get && id !== undefined && detail === undefined)
				return ok(await this.orders.get({ id }));
			if (get && id !== undefined && detail === "payment") {
				return ok(await this.payments.forOrder({ orderId: id }));
			}
		}
		return noRoute(request, url);
	}
}
