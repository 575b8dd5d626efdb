/**
 * What the tests use to talk to the app as a client does: a free port for its HTTP API, and JSON
 * requests that return the status and the parsed body.
 */
import { createServer } from "node:net";

/** A port nothing listens on now, for the app's HTTP API (`PORT`). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() =>
				typeof address === "object" && address !== null
					? resolve(address.port)
					: reject(new Error("no port")),
			);
		});
	});
}

/** An HTTP answer: its status and its JSON body. */
export interface Answer {
	readonly status: number;
	// biome-ignore lint/suspicious/noExplicitAny: a test reads any field of a JSON body
	readonly body: any;
}

/**
 * Sends `method path` to `base` and reads the JSON answer. A `body` is sent as JSON; a string is sent as
 * it is (to try a malformed one).
 */
export async function request(
	base: string,
	method: string,
	path: string,
	body?: unknown,
): Promise<Answer> {
	const response = await fetch(`${base}${path}`, {
		method,
		...(body === undefined
			? {}
			: {
					headers: { "content-type": "application/json" },
					body: typeof body === "string" ? body : JSON.stringify(body),
				}),
	});
	return { status: response.status, body: await response.json() };
}

/**
 * What an error answer matches (with `toMatchObject`): its status, and its code in the one error body
 * every error gets, `{"error":{"code","message","details"}}`.
 */
export function anError(status: number, code: string) {
	return { status, body: { error: { code } } };
}

/** The operations of an OpenAPI document, as `"get /users/{id}"`, in its order. */
export function operationsOf(document: {
	paths: Record<string, object>;
}): string[] {
	return Object.entries(document.paths).flatMap(([path, operations]) =>
		Object.keys(operations).map((method) => `${method} ${path}`),
	);
}
