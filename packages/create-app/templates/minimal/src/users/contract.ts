/**
 * The users contract: what other services (and tests) see of the users service. They depend on this
 * file, never on the class that implements it, so the topology may put the service in their process or
 * in another one.
 */
import { defineService } from "@blueprint/core";
import { defineEvent } from "@blueprint/events";
import { z } from "zod";
import { Id } from "../id.js";

/** A registered user. */
export const User = z.object({
	id: z.string(),
	name: z.string(),
	email: z.email(),
	registeredAt: z.date(),
});
/** A registered user. */
export type User = z.infer<typeof User>;

/** The `users` service. */
export const Users = defineService(
	"users",
	{
		register: {
			input: z.object({
				name: z.string().trim().min(1).max(100),
				email: z.email(),
			}),
			output: User,
			description: "registers a user and publishes user.registered",
		},
		get: {
			input: z.object({ id: Id }),
			output: User,
			idempotent: true,
			description: "one user (cached)",
		},
	},
	{ description: "who has signed up" },
);

/** Published once a user is registered. */
export const UserRegistered = defineEvent(
	"user.registered",
	z.object({ id: z.string(), name: z.string(), email: z.email() }),
	{ version: 1 },
);
