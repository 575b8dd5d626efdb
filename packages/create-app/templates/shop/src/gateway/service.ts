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
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
	type ClientOf,
	CoreTokens,
	defineError,
	type ImplementationOf,
	inject,
	injectable,
	injectService,
	isBlueprintError,
	type OnStart,
	type OnStop,
} from "@blueprint/core";
import { Orders } from "../orders/contract.js";
import { Payments } from "../payments/contract.js";
import { Products } from "../products/contract.js";
import type { Gateway } from "./contract.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** A request the API cannot read (400): a body that is not JSON, or too large. */
const BadRequestError = defineError("BAD_REQUEST", 400, "BadRequestError");

/** An HTTP answer: a status and a JSON body. */
interface Reply {
	readonly status: number;
	readonly body: unknown;
}

/** Implements {@link Gateway}: no methods, an HTTP server. */
@injectable()
export class GatewayService
	implements ImplementationOf<typeof Gateway>, OnStart, OnStop
{
	private server: Server | undefined;

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
		const server = createServer((request, response) => {
			this.route(request)
				.catch(errorReply)
				.then(({ status, body }) => {
					response.writeHead(status, { "content-type": "application/json" });
					response.end(JSON.stringify(body));
				});
		});
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(Number(this.settings.port ?? 3000), () => resolve());
		});
		this.server = server;
		const { port } = server.address() as AddressInfo;
		console.log(`gateway: listening on http://localhost:${port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		const server = this.server;
		if (server === undefined) return;
		await new Promise((resolve) => server.close(resolve));
	}

	private async route(request: IncomingMessage): Promise<Reply> {
		const url = new URL(request.url ?? "/", "http://localhost");
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
		return reply(
			404,
			"NOT_FOUND",
			`no route for ${request.method} ${url.pathname}`,
		);
	}
}

function ok(body: unknown): Reply {
	return { status: 200, body };
}

function reply(
	status: number,
	code: string,
	message: string,
	details: unknown = null,
): Reply {
	return { status, body: { error: { code, message, details } } };
}

/** Coded errors keep their status and code (400 for invalid input, 404, 409, ...). */
function errorReply(error: unknown): Reply {
	if (isBlueprintError(error)) {
		return reply(
			error.status,
			error.code,
			error.message,
			error.details ?? null,
		);
	}
	console.error(error);
	return reply(500, "INTERNAL", "internal error");
}

/** The JSON body of a request, at most 64 KiB. */
async function readJson(request: IncomingMessage): Promise<unknown> {
	let text = "";
	for await (const chunk of request) {
		text += chunk;
		if (text.length > 65_536)
			throw new BadRequestError("the body is larger than 64 KiB");
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new BadRequestError("the body is not JSON");
	}
}
