/**
 * The users service: keeps users in memory, publishes an event for each new one, and caches reads.
 */
import { randomUUID } from "node:crypto";
import { Cached } from "@blueprint/cache";
import {
	ConflictError,
	type ImplementationOf,
	type InputOf,
	inject,
	injectable,
} from "@blueprint/core";
import { type EventBus, EventsTokens } from "@blueprint/events";
import { existing } from "../existing.js";
import { type User, UserRegistered, type Users } from "./contract.js";

/** Implements {@link Users}. */
@injectable()
export class UsersService implements ImplementationOf<typeof Users> {
	private readonly users = new Map<string, User>();

	constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}

	async register({
		name,
		email,
	}: InputOf<typeof Users, "register">): Promise<User> {
		if ([...this.users.values()].some((user) => user.email === email)) {
			throw new ConflictError(`${email} is already registered`, {
				details: { email },
			});
		}
		const user: User = {
			id: randomUUID(),
			name,
			email,
			registeredAt: new Date(),
		};
		this.users.set(user.id, user);
		await this.bus.publish(UserRegistered, { id: user.id, name, email });
		return user;
	}

	/** Cached for a minute: a second read of the same id does not run this method. */
	@Cached({ ttl: "1m" })
	async get({ id }: InputOf<typeof Users, "get">): Promise<User> {
		return existing(this.users, "user", id);
	}
}
