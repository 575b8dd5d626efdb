/**
 * The same scenario against both topologies, through the HTTP API as a client sees it: the monolith
 * (one process, events and cache in memory) and the split (the users service in its own process,
 * called over HTTP, events over Redis Streams). Both run inside this test process: each `createApp`
 * builds one process of the topology, the split one on free ports. Nothing in `src/` knows which
 * topology runs it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createApp } from "@blueprint/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app.js";
import { freePort, operationsOf, request } from "./http.js";
import { splitCanRun } from "./redis.js";

const topology = (name: string) =>
	fileURLToPath(new URL(`../topology/${name}.json`, import.meta.url));
/** The split topology's processes sign their calls with this secret (`auth` in split.json). */
const serviceSecret =
	process.env.SERVICE_SECRET ?? randomBytes(32).toString("base64");
/**
 * The environment of the app's processes; logs below `warn` are left out (set `LOG_LEVEL=info` to see
 * every request, call and event). The web service listens on a free port (`PORT`), so tests never
 * clash with a running app.
 */
const envWith = (port: number) => ({
	...process.env,
	PORT: String(port),
	LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
	SERVICE_SECRET: serviceSecret,
});

/** A started topology: the base URL of its HTTP API, and how to stop everything. */
interface Running {
	readonly base: string;
	stop(): Promise<void>;
}

async function startMonolith(): Promise<Running> {
	const port = await freePort();
	const main = await createApp(app, {
		topology: topology("monolith"),
		env: envWith(port),
	});
	await main.start();
	return { base: `http://127.0.0.1:${port}`, stop: () => main.stop() };
}

async function startSplit(): Promise<Running> {
	const port = await freePort();
	const env = envWith(port);
	const users = await createApp(app, {
		topology: topology("split"),
		process: "users",
		env,
		listen: { port: 0 },
	});
	await users.start();
	const web = await createApp(app, {
		topology: topology("split"),
		process: "web",
		env,
		addresses: { users: users.rpcUrl ?? "" },
	});
	await web.start();
	return {
		base: `http://127.0.0.1:${port}`,
		async stop() {
			await web.stop();
			await users.stop();
		},
	};
}

const topologies: [string, () => Promise<Running>][] = [
	["monolith", startMonolith],
];
if (await splitCanRun()) topologies.push(["split", startSplit]);

describe.each(topologies)("the %s topology", (_name, start) => {
	let running: Running;
	beforeAll(async () => {
		running = await start();
	});
	afterAll(() => running?.stop());

	const send = (method: string, path: string, body?: unknown) =>
		request(running.base, method, path, body);
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
		expect(invalid).toMatchObject({
			status: 400,
			body: { error: { code: "VALIDATION_FAILED" } },
		});
		expect(
			invalid.body.error.details.issues.map(
				(issue: { path: string[] }) => issue.path,
			),
		).toEqual([["name"], ["email"]]);
		expect(await send("POST", "/users", "{not json")).toMatchObject({
			status: 400,
			body: { error: { code: "MALFORMED_JSON" } },
		});
		expect(
			await send("POST", "/users", { name: "x".repeat(70_000), email }),
		).toMatchObject({
			status: 413,
			body: { error: { code: "PAYLOAD_TOO_LARGE" } },
		});
		expect(await send("GET", "/nowhere")).toMatchObject({
			status: 404,
			body: { error: { code: "NOT_FOUND" } },
		});
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
