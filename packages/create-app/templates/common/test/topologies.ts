/**
 * How the tests run the app in each topology, inside the test process: each `createApp` builds one
 * process of the topology, the split ones on free ports. The HTTP API listens on a free port (`PORT`), so
 * tests never clash with a running app.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type BlueprintApp, createApp } from "@blueprint/core";
import { afterAll, beforeAll } from "vitest";
import { app } from "../src/app.js";
import { type Answer, freePort, request } from "./http.js";
import { splitCanRun } from "./redis.js";

const topology = (name: string) =>
	fileURLToPath(new URL(`../topology/${name}.json`, import.meta.url));
/** The split topology's processes sign their calls with this secret (`auth` in split.json). */
const serviceSecret =
	process.env.SERVICE_SECRET ?? randomBytes(32).toString("base64");
/**
 * The environment of the app's processes; logs below `warn` are left out (set `LOG_LEVEL=info` to see
 * every request, call and event).
 */
const envWith = (port: number) => ({
	...process.env,
	PORT: String(port),
	LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
	SERVICE_SECRET: serviceSecret,
});

/** A started topology: the base URL of its HTTP API, and how to stop everything. */
export interface Running {
	readonly base: string;
	stop(): Promise<void>;
}

/** Starts the monolith: one process, events and cache in memory. */
export async function startMonolith(): Promise<Running> {
	const port = await freePort();
	const main = await createApp(app, {
		topology: topology("monolith"),
		env: envWith(port),
	});
	await main.start();
	return { base: `http://127.0.0.1:${port}`, stop: () => main.stop() };
}

/**
 * Starts each process of the split topology in `order`, telling the later ones where the earlier ones
 * listen: a process comes after the processes it calls.
 */
export async function startSplit(order: readonly string[]): Promise<Running> {
	const port = await freePort();
	const env = envWith(port);
	const started: BlueprintApp[] = [];
	const addresses: Record<string, string> = {};
	try {
		for (const name of order) {
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
		base: `http://127.0.0.1:${port}`,
		async stop() {
			for (const one of started.reverse()) await one.stop();
		},
	};
}

/**
 * The topologies to run the scenario against, for `describe.each`: the monolith, and the split (its
 * processes started in `splitOrder`) when {@link splitCanRun}.
 */
export async function topologies(
	splitOrder: readonly string[],
): Promise<[string, () => Promise<Running>][]> {
	const table: [string, () => Promise<Running>][] = [
		["monolith", startMonolith],
	];
	if (await splitCanRun()) table.push(["split", () => startSplit(splitOrder)]);
	return table;
}

/**
 * Starts a topology before the tests of the enclosing `describe` and stops it after them. Returns how
 * to send a request to its HTTP API (see `request` in `http.ts`).
 */
export function serveDuringTests(
	start: () => Promise<Running>,
): (method: string, path: string, body?: unknown) => Promise<Answer> {
	let running: Running | undefined;
	beforeAll(async () => {
		running = await start();
	});
	afterAll(() => running?.stop());
	return (method, path, body) => {
		if (running === undefined) throw new Error("the topology is not running");
		return request(running.base, method, path, body);
	};
}
