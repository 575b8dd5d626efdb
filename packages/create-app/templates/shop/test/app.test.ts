/**
 * The shop's scenario against both topologies, through the HTTP API as a client sees it: the monolith
 * (one process, events and cache in memory) and the split (products, orders and payments each in their
 * own process, called over HTTP, events over Redis Streams). Both run inside this test process: each
 * `createApp` builds one process of the topology, the split ones on free ports. Nothing in `src/`
 * knows which topology runs it.
 */
import { describe, expect, it, vi } from "vitest";
import { anError, operationsOf } from "./http.js";
import { serveDuringTests, topologies } from "./topologies.js";

/** The monolith, and the split when a Redis is up: its processes in order, each after those it calls. */
const toRun = await topologies(["products", "payments", "orders", "gateway"]);

describe.each(toRun)("the shop, %s", (_name, start) => {
	const send = serveDuringTests(start);
	const stockOf = async (id: string) =>
		(await send("GET", `/products/${id}`)).body.stock;
	const statusOf = async (id: string) =>
		(await send("GET", `/orders/${id}`)).body.status;

	it("lists the catalog, one product, and answers 404 for an unknown one", async () => {
		const catalog = await send("GET", "/products");
		expect(catalog.status).toBe(200);
		expect(catalog.body.map((product: { id: string }) => product.id)).toContain(
			"p-keyboard",
		);
		expect(await send("GET", "/products/p-mouse")).toMatchObject({
			status: 200,
			body: { id: "p-mouse", name: "Wireless mouse", priceCents: 2_900 },
		});
		expect(await send("GET", "/products/nope")).toEqual({
			status: 404,
			body: {
				error: {
					code: "NOT_FOUND",
					message: "product nope does not exist",
					details: { id: "nope" },
				},
			},
		});
	});

	it("places an order (201) that gets paid, and the cached product shows the reservation", async () => {
		const before = await stockOf("p-keyboard");
		const order = await send("POST", "/orders", {
			productId: "p-keyboard",
			quantity: 3,
		});
		expect(order).toMatchObject({
			status: 201,
			body: {
				productId: "p-keyboard",
				quantity: 3,
				totalCents: 3 * 8_900,
				createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
			},
		});
		expect(await stockOf("p-keyboard")).toBe(before - 3);
		await vi.waitFor(
			async () => expect(await statusOf(order.body.id)).toBe("paid"),
			{ timeout: 10_000, interval: 50 },
		);
		expect(await send("GET", `/orders/${order.body.id}/payment`)).toMatchObject(
			{
				status: 200,
				body: {
					orderId: order.body.id,
					status: "succeeded",
					amountCents: 3 * 8_900,
				},
			},
		);
	});

	it("declines an order over the payment limit and puts the stock back", async () => {
		const before = await stockOf("p-server");
		const order = await send("POST", "/orders", {
			productId: "p-server",
			quantity: 1,
		});
		expect(order.status).toBe(201);
		await vi.waitFor(
			async () => expect(await statusOf(order.body.id)).toBe("payment_failed"),
			{ timeout: 10_000, interval: 50 },
		);
		await vi.waitFor(
			async () => expect(await stockOf("p-server")).toBe(before),
			{ timeout: 10_000, interval: 50 },
		);
		expect(await send("GET", `/orders/${order.body.id}/payment`)).toMatchObject(
			{ status: 200, body: { status: "failed" } },
		);
	});

	it("refuses an order for more than the stock (409 OUT_OF_STOCK) and invalid input (400)", async () => {
		expect(
			await send("POST", "/orders", { productId: "p-monitor", quantity: 99 }),
		).toMatchObject({
			status: 409,
			body: {
				error: {
					code: "OUT_OF_STOCK",
					details: { productId: "p-monitor", requested: 99 },
				},
			},
		});
		expect(
			await send("POST", "/orders", { productId: "p-monitor", quantity: 0 }),
		).toMatchObject(anError(400, "VALIDATION_FAILED"));
		// The input is a strict object: an unknown field is refused, not ignored.
		expect(
			await send("POST", "/orders", {
				productId: "p-monitor",
				quantity: 1,
				discount: 100,
			}),
		).toMatchObject(anError(400, "VALIDATION_FAILED"));
		expect(await send("GET", "/orders/nope/payment")).toMatchObject(
			anError(404, "NOT_FOUND"),
		);
		expect(await send("DELETE", "/products")).toMatchObject(
			anError(405, "METHOD_NOT_ALLOWED"),
		);
	});

	it("describes its routes at /openapi.json", async () => {
		const { status, body } = await send("GET", "/openapi.json");
		expect(status).toBe(200);
		expect(body.openapi).toMatch(/^3\.1\./);
		expect(operationsOf(body)).toEqual([
			"get /products",
			"get /products/{id}",
			"post /orders",
			"get /orders/{id}",
			"get /orders/{orderId}/payment",
		]);
	});
});
