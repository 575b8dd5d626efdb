/**
 * The web service: a small HTTP API over the users and mailer contracts, on the port of the topology's
 * `settings.port` (`PORT`, default 3000). It calls the contracts' clients, local or remote as the
 * topology decides.
 *
 *   POST /users             {"name":"Ada","email":"ada@example.com"}  registers a user
 *   GET  /users/:id         one user
 *   GET  /users/:id/emails  the emails the mailer sent to that user
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
import { Mailer } from "../mailer/contract.js";
import { Users } from "../users/contract.js";
import type { Web } from "./contract.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** A request the API cannot read (400): a body that is not JSON, or too large. */
const BadRequestError = defineError("BAD_REQUEST", 400, "BadRequestError");

/** An HTTP answer: a status and a JSON body. */
interface Reply {
	readonly status: number;
	readonly body: unknown;
}

/** Implements {@link Web}: no methods, an HTTP server. */
@injectable()
export class WebService
	implements ImplementationOf<typeof Web>, OnStart, OnStop
{
	private server: Server | undefined;

	constructor(
		@injectService(Users) private readonly users: ClientOf<typeof Users>,
		@injectService(Mailer) private readonly mailer: ClientOf<typeof Mailer>,
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
		console.log(`web: listening on http://localhost:${port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		const server = this.server;
		if (server === undefined) return;
		await new Promise((resolve) => server.close(resolve));
	}

	private async route(request: IncomingMessage): Promise<Reply> {
		const url = new URL(request.url ?? "/", "http://localhost");
		const [collection, id, detail, ...rest] = url.pathname
			.split("/")
			.filter(Boolean);
		if (collection === "users" && rest.length === 0) {
			if (request.method === "POST" && id === undefined) {
				const input = (await readJson(request)) as {
					name: string;
					email: string;
				};
				return { status: 201, body: await this.users.register(input) };
			}
			if (
				request.method === "GET" &&
				id !== undefined &&
				detail === undefined
			) {
				return { status: 200, body: await this.users.get({ id }) };
			}
			if (request.method === "GET" && id !== undefined && detail === "emails") {
				const user = await this.users.get({ id });
				return {
					status: 200,
					body: await this.mailer.sentTo({ email: user.email }),
				};
			}
		}
		return reply(
			404,
			"NOT_FOUND",
			`no route for ${request.method} ${url.pathname}`,
		);
	}
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
