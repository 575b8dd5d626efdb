/**
 * The mailer service: handles `user.registered`, wherever the users service runs.
 */
import type { ImplementationOf, InputOf } from "@blueprint/core";
import { injectable } from "@blueprint/core";
import { OnEvent, type PayloadOf } from "@blueprint/events";
import { UserRegistered } from "../users/contract.js";
import type { Email, Mailer } from "./contract.js";

/** Implements {@link Mailer}. */
@injectable()
export class MailerService implements ImplementationOf<typeof Mailer> {
	/** Welcome emails by user id: an event delivered twice sends one email. */
	private readonly welcomes = new Map<string, Email>();

	async sentTo({ userId }: InputOf<typeof Mailer, "sentTo">): Promise<Email[]> {
		const welcome = this.welcomes.get(userId);
		return welcome === undefined ? [] : [welcome];
	}

	/** Runs once per `user.registered` (again only if it throws: events are retried). */
	@OnEvent(UserRegistered)
	async welcome(user: PayloadOf<typeof UserRegistered>): Promise<void> {
		if (this.welcomes.has(user.id)) return;
		this.welcomes.set(user.id, {
			to: user.email,
			subject: `Welcome, ${user.name}!`,
			body: "Thanks for signing up.",
			sentAt: new Date(),
		});
	}
}
