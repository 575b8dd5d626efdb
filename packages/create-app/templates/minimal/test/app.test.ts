/**
 * The same scenario against both topologies: the monolith (one process, events and cache in memory)
 * and the split (the users service in its own process, called over HTTP, events over Redis Streams).
 * Both run inside this test process: each `createApp` builds one process of the topology, the split
 * one on free ports. Nothing in `src/` knows which topology runs it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type BlueprintApp, createApp } from "@blueprint/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app.js";
import { Mailer } from "../src/mailer/contract.js";
import { Users } from "../src/users/contract.js";
import { splitCanRun } from "./redis.js";

const topology = (name: string) =>
	fileURLToPath(new URL(`../topology/${name}.json`, import.meta.url));
/**
 * The web service listens on a free port (`PORT=0`), so tests never clash with a running app; logs
 * below `warn` are left out (set `LOG_LEVEL=info` to see every call and event).
 */
const env = {
	...process.env,
	PORT: "0",
	LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
	// The split topology's processes sign their calls with this secret (`auth` in split.json).
	SERVICE_SECRET:
		process.env.SERVICE_SECRET ?? randomBytes(32).toString("base64"),
};

/** A started topology: the process the test calls from, and how to stop everything. */
interface Running {
	readonly caller: BlueprintApp;
	stop(): Promise<void>;
}

async function startMonolith(): Promise<Running> {
	const main = await createApp(app, { topology: topology("monolith"), env });
	await main.start();
	return { caller: main, stop: () => main.stop() };
}

async function startSplit(): Promise<Running> {
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
		caller: web,
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

	const newEmail = () => `ada-${randomUUID().slice(0, 8)}@example.com`;

	it("registers a user and reads it back, dates as dates", async () => {
		const users = running.caller.client(Users);
		const email = newEmail();
		const user = await users.register({ name: "Ada", email });
		expect(user).toMatchObject({ name: "Ada", email });
		expect(user.registeredAt).toBeInstanceOf(Date);
		expect(await users.get({ id: user.id })).toEqual(user);
		// The second read comes from the cache, with the same value.
		expect(await users.get({ id: user.id })).toEqual(user);
	});

	it("sends the new user a welcome email, through the user.registered event", async () => {
		const email = newEmail();
		await running.caller.client(Users).register({ name: "Grace", email });
		const mailer = running.caller.client(Mailer);
		await vi.waitFor(
			async () => {
				const sent = await mailer.sentTo({ email });
				expect(sent.map((mail) => mail.subject)).toEqual(["Welcome, Grace!"]);
			},
			{ timeout: 10_000, interval: 50 },
		);
	});

	it("answers with the same coded errors", async () => {
		const users = running.caller.client(Users);
		await expect(users.get({ id: "nobody" })).rejects.toMatchObject({
			code: "NOT_FOUND",
			details: { id: "nobody" },
		});
		const email = newEmail();
		await users.register({ name: "Alan", email });
		await expect(users.register({ name: "Alan", email })).rejects.toMatchObject(
			{ code: "CONFLICT" },
		);
		await expect(
			users.register({ name: "", email: "not an email" }),
		).rejects.toMatchObject({
			code: "VALIDATION_FAILED",
		});
	});
});
