/**
 * The mailer contract: it sends a welcome email to every new user (simulated: emails are kept in
 * memory) and tells which emails went to a user.
 */
import { defineService } from "@blueprint/core";
import { z } from "zod";
import { Id } from "../id.js";

/** An email that was sent. */
export const Email = z.object({
	to: z.email(),
	subject: z.string(),
	body: z.string(),
	sentAt: z.date(),
});
/** An email that was sent. */
export type Email = z.infer<typeof Email>;

/** The `mailer` service. */
export const Mailer = defineService(
	"mailer",
	{
		sentTo: {
			input: z.object({ userId: Id }),
			output: z.array(Email),
			idempotent: true,
			description:
				"the emails sent to a user; none until its user.registered arrives",
		},
	},
	{ description: "sends emails (simulated)" },
);
