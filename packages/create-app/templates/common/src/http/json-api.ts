/**
 * A small JSON HTTP API on `node:http`, shared by the app's public web service: it listens on a port,
 * hands each request to a route function, and answers with its status and JSON body. Coded Blueprint
 * errors keep their status and code (400 for invalid input, 404, 409, ...); any other error answers
 * 500 with a generic message and is logged, so no internal text reaches a client.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { defineError, isBlueprintError } from "@blueprint/core";

/** A request the API cannot read (400): a body that is not JSON, or too large. */
export const BadRequestError = defineError(
	"BAD_REQUEST",
	400,
	"BadRequestError",
);

/** The largest request body read, in characters. */
const BODY_LIMIT = 65_536;

/** An HTTP answer: a status and a JSON body. */
export interface Reply {
	readonly status: number;
	readonly body: unknown;
}

/** Finds the answer to one request; a thrown error becomes its coded answer. */
export type Route = (request: IncomingMessage, url: URL) => Promise<Reply>;

/** A listening API: its port, and how to stop it. */
export interface JsonApi {
	readonly port: number;
	/** Stops accepting requests and waits for the ones in flight. */
	close(): Promise<void>;
}

/** Listens on `port` (0 for a free one) and answers every request with `route`. */
export async function startJsonApi(
	port: number,
	route: Route,
): Promise<JsonApi> {
	const server: Server = createServer((request, response) => {
		const url = new URL(request.url ?? "/", "http://localhost");
		route(request, url)
			.catch(errorReply)
			.then(({ status, body }) => {
				response.writeHead(status, { "content-type": "application/json" });
				response.end(JSON.stringify(body));
			});
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, () => resolve());
	});
	return {
		port: (server.address() as AddressInfo).port,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}

/** A 200 answer. */
export function ok(body: unknown): Reply {
	return { status: 200, body };
}

/** An error answer in Blueprint's shape: `{ error: { code, message, details } }`. */
export function reply(
	status: number,
	code: string,
	message: string,
	details: unknown = null,
): Reply {
	return { status, body: { error: { code, message, details } } };
}

/** The 404 answer for a request no route matches. */
export function noRoute(request: IncomingMessage, url: URL): Reply {
	return reply(
		404,
		"NOT_FOUND",
		`no route for ${request.method} ${url.pathname}`,
	);
}

/** Coded errors keep their status and code; others answer 500 and are logged. */
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
export async function readJson(request: IncomingMessage): Promise<unknown> {
	let text = "";
	for await (const chunk of request) {
		text += chunk;
		if (text.length > BODY_LIMIT)
			throw new BadRequestError("the body is larger than 64 KiB");
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new BadRequestError("the body is not JSON");
	}
}
