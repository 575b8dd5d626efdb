/**
 * The payments contract, and the events the payments service publishes. Payments are made in
 * reaction to `order.placed`; the contract reads them.
 */
import { defineService } from "@blueprint/core";
import { defineEvent } from "@blueprint/events";
import { z } from "zod";
import { Id } from "../id.js";

/** Orders whose total is above this are declined (a simulated card limit). */
export const PAYMENT_LIMIT_CENTS = 1_000_000;

/** A payment attempt for one order. */
export const Payment = z.object({
	id: z.string(),
	orderId: z.string(),
	amountCents: z.number().int(),
	status: z.enum(["succeeded", "failed"]),
	reason: z.string().nullable(),
});
/** A payment. */
export type Payment = z.infer<typeof Payment>;

/** The `payments` service. */
export const Payments = defineService(
	"payments",
	{
		forOrder: {
			input: z.object({ orderId: Id }),
			output: Payment,
			idempotent: true,
			description: "the payment made for an order",
		},
	},
	{ description: "charges orders (simulated), once each" },
);

/** The order's payment was charged. */
export const PaymentSucceeded = defineEvent(
	"payment.succeeded",
	z.object({
		orderId: z.string(),
		paymentId: z.string(),
		amountCents: z.number().int(),
	}),
	{ version: 1 },
);

/** The order's payment was declined. */
export const PaymentFailed = defineEvent(
	"payment.failed",
	z.object({ orderId: z.string(), reason: z.string() }),
	{ version: 1 },
);
