/**
 * The web service: a small HTTP API over the users and mailer contracts, on the port of the topology's
 * `settings.port` (`PORT`, default 3000). It calls the contracts' clients, local or remote as the
 * topology decides.
 *
 *   POST /users             {"name":"Ada","email":"ada@example.com"}  registers a user
 *   GET  /users/:id         one user
 *   GET  /users/:id/emails  the emails the mailer sent to that user
 */
import type { IncomingMessage } from "node:http";
import {
	type ClientOf,
	CoreTokens,
	type ImplementationOf,
	inject,
	injectable,
	injectService,
	type OnStart,
	type OnStop,
} from "@blueprint/core";
import {
	type JsonApi,
	noRoute,
	type Reply,
	readJson,
	startJsonApi,
} from "../http/json-api.js";
import { Mailer } from "../mailer/contract.js";
import { Users } from "../users/contract.js";
import type { Web } from "./contract.js";

type Settings = Readonly<Record<string, string | number | boolean>>;

/** Implements {@link Web}: no methods, an HTTP server. */
@injectable()
export class WebService
	implements ImplementationOf<typeof Web>, OnStart, OnStop
{
	private api: JsonApi | undefined;

	constructor(
		@injectService(Users) private readonly users: ClientOf<typeof Users>,
		@injectService(Mailer) private readonly mailer: ClientOf<typeof Mailer>,
		@inject(CoreTokens.Settings) private readonly settings: Settings,
	) {}

	/** Listens on `settings.port` once the process starts. */
	async onStart(): Promise<void> {
		this.api = await startJsonApi(
			Number(this.settings.port ?? 3000),
			(request, url) => this.route(request, url),
		);
		console.log(`web: listening on http://localhost:${this.api.port}`);
	}

	/** Stops accepting requests and waits for the ones in flight. */
	async onStop(): Promise<void> {
		await this.api?.close();
	}

	private async route(request: IncomingMessage, url: URL): Promise<Reply> {
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
		return noRoute(request, url);
	}
}
