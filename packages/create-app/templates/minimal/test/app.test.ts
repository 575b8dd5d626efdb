/**
 * The same scenario against both topologies, through the HTTP API as a client sees it: the monolith
 * (one process, events and cache in memory) and the split (the users service in its own process,
 * called over HTTP, events over Redis Streams). Both run inside this test process: each `createApp`
 * builds one process of the topology, the split one on free ports. Nothing in `src/` knows which
 * topology runs it.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { anError, operationsOf } from "./http.js";
import { serveDuringTests, topologies } from "./topologies.js";

/** The monolith, and the split when a Redis is up: its processes in order, each after those it calls. */
const toRun = await topologies(["users", "web"]);

describe.each(toRun)("the %s topology", (_name, start) => {
	const send = serveDuringTests(start);
	const newEmail = () => `ada-${randomUUID().slice(0, 8)}@example.com`;

	it("registers a user (201) and reads it back (200)", async () => {
		const email = newEmail();
		const registered = await send("POST", "/users", { name: "Ada", email });
		expect(registered.status).toBe(201);
		expect(registered.body).toEqual({
			id: expect.any(String),
			name: "Ada",
			email,
			registeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
		});
		const read = await send("GET", `/users/${registered.body.id}`);
		expect(read).toEqual({ status: 200, body: registered.body });
		// The second read comes from the cache, with the same answer.
		expect(await send("GET", `/users/${registered.body.id}`)).toEqual(read);
	});

	it("sends the new user a welcome email, through the user.registered event", async () => {
		const email = newEmail();
		const { body: user } = await send("POST", "/users", {
			name: "Grace",
			email,
		});
		await vi.waitFor(
			async () => {
				const sent = await send("GET", `/users/${user.id}/emails`);
				expect(sent.status).toBe(200);
				expect(sent.body).toMatchObject([
					{ to: email, subject: "Welcome, Grace!" },
				]);
			},
			{ timeout: 10_000, interval: 50 },
		);
	});

	it("answers coded errors with their status and one error body", async () => {
		expect(await send("GET", "/users/nobody")).toEqual({
			status: 404,
			body: {
				error: {
					code: "NOT_FOUND",
					message: "user nobody does not exist",
					details: { id: "nobody" },
				},
			},
		});
		const email = newEmail();
		await send("POST", "/users", { name: "Alan", email });
		expect(await send("POST", "/users", { name: "Alan", email })).toMatchObject(
			{
				status: 409,
				body: { error: { code: "CONFLICT", details: { email } } },
			},
		);
		const invalid = await send("POST", "/users", {
			name: "",
			email: "not an email",
		});
		expect(invalid).toMatchObject(anError(400, "VALIDATION_FAILED"));
		expect(
			invalid.body.error.details.issues.map(
				(issue: { path: string[] }) => issue.path,
			),
		).toEqual([["name"], ["email"]]);
		expect(await send("POST", "/users", "{not json")).toMatchObject(
			anError(400, "MALFORMED_JSON"),
		);
		expect(
			await send("POST", "/users", { name: "x".repeat(70_000), email }),
		).toMatchObject(anError(413, "PAYLOAD_TOO_LARGE"));
		expect(await send("GET", "/nowhere")).toMatchObject(
			anError(404, "NOT_FOUND"),
		);
	});

	it("describes its routes at /openapi.json", async () => {
		const { status, body } = await send("GET", "/openapi.json");
		expect(status).toBe(200);
		expect(body.openapi).toMatch(/^3\.1\./);
		expect(operationsOf(body)).toEqual([
			"post /users",
			"get /users/{id}",
			"get /users/{userId}/emails",
		]);
	});
});
