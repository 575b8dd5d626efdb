/**
 * The shop's scenario against both topologies: the monolith (one process, events and cache in
 * memory) and the split (products, orders and payments each in their own process, called over HTTP,
 * events over Redis Streams). Both run inside this test process: each `createApp` builds one process
 * of the topology, the split ones on free ports. Nothing in `src/` knows which topology runs it.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type BlueprintApp, createApp } from "@blueprint/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app.js";
import { Orders } from "../src/orders/contract.js";
import { Payments } from "../src/payments/contract.js";
import { Products } from "../src/products/contract.js";
import { splitCanRun } from "./redis.js";

const topology = (name: string) =>
	fileURLToPath(new URL(`../topology/${name}.json`, import.meta.url));
/**
 * The gateway listens on a free port (`PORT=0`), so tests never clash with a running shop; logs below
 * `warn` are left out (set `LOG_LEVEL=info` to see every call and event).
 */
const env = {
	...process.env,
	PORT: "0",
	LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
	// The split topology's processes sign their calls with this secret (`auth` in split.json).
	SERVICE_SECRET:
		process.env.SERVICE_SECRET ?? randomBytes(32).toString("base64"),
};

/** A started topology: the process the test calls from (the gateway's), and how to stop everything. */
interface Running {
	readonly caller: BlueprintApp;
	stop(): Promise<void>;
}

async function startMonolith(): Promise<Running> {
	const main = await createApp(app, { topology: topology("monolith"), env });
	await main.start();
	return { caller: main, stop: () => main.stop() };
}

/** Starts each process of the split topology, telling the later ones where the earlier ones listen. */
async function startSplit(): Promise<Running> {
	const started: BlueprintApp[] = [];
	const addresses: Record<string, string> = {};
	try {
		for (const name of ["products", "payments", "orders", "gateway"]) {
			const one = await createApp(app, {
				topology: topology("split"),
				process: name,
				env,
				listen: { port: 0 },
				addresses,
			});
			await one.start();
			started.push(one);
			if (one.rpcUrl !== undefined) addresses[name] = one.rpcUrl;
		}
	} catch (error) {
		await Promise.all(started.map((one) => one.stop()));
		throw error;
	}
	return {
		caller: started.at(-1) as BlueprintApp,
		async stop() {
			for (const one of started.reverse()) await one.stop();
		},
	};
}

const topologies: [string, () => Promise<Running>][] = [
	["monolith", startMonolith],
];
if (await splitCanRun()) topologies.push(["split", startSplit]);

describe.each(topologies)("the shop, %s", (_name, start) => {
	let running: Running;
	beforeAll(async () => {
		running = await start();
	});
	afterAll(() => running?.stop());

	const stockOf = async (id: string) =>
		(await running.caller.client(Products).get({ id })).stock;
	const statusOf = async (id: string) =>
		(await running.caller.client(Orders).get({ id })).status;

	it("lists the catalog and answers NOT_FOUND for an unknown product", async () => {
		const products = running.caller.client(Products);
		const catalog = await products.list();
		expect(catalog.map((product) => product.id)).toContain("p-keyboard");
		await expect(products.get({ id: "nope" })).rejects.toMatchObject({
			code: "NOT_FOUND",
		});
	});

	it("places an order that gets paid, and the cached product shows the reservation", async () => {
		const before = await stockOf("p-keyboard");
		const order = await running.caller
			.client(Orders)
			.place({ productId: "p-keyboard", quantity: 3 });
		expect(order).toMatchObject({
			productId: "p-keyboard",
			quantity: 3,
			totalCents: 3 * 8_900,
		});
		expect(order.createdAt).toBeInstanceOf(Date);
		expect(await stockOf("p-keyboard")).toBe(before - 3);
		await vi.waitFor(
			async () => expect(await statusOf(order.id)).toBe("paid"),
			{
				timeout: 10_000,
				interval: 50,
			},
		);
		const payment = await running.caller
			.client(Payments)
			.forOrder({ orderId: order.id });
		expect(payment).toMatchObject({
			status: "succeeded",
			amountCents: 3 * 8_900,
		});
	});

	it("declines an order over the payment limit and puts the stock back", async () => {
		const before = await stockOf("p-server");
		const order = await running.caller
			.client(Orders)
			.place({ productId: "p-server", quantity: 1 });
		await vi.waitFor(
			async () => expect(await statusOf(order.id)).toBe("payment_failed"),
			{
				timeout: 10_000,
				interval: 50,
			},
		);
		await vi.waitFor(
			async () => expect(await stockOf("p-server")).toBe(before),
			{
				timeout: 10_000,
				interval: 50,
			},
		);
	});

	it("refuses an order for more than the stock with OUT_OF_STOCK, and invalid input", async () => {
		const orders = running.caller.client(Orders);
		await expect(
			orders.place({ productId: "p-monitor", quantity: 99 }),
		).rejects.toMatchObject({
			code: "OUT_OF_STOCK",
			details: { productId: "p-monitor", requested: 99 },
		});
		await expect(
			orders.place({ productId: "p-monitor", quantity: 0 }),
		).rejects.toMatchObject({
			code: "VALIDATION_FAILED",
		});
	});
});
