/**
 * The orders contract, and the event the orders service publishes.
 */
import { defineService } from "@blueprint/core";
import { defineEvent } from "@blueprint/events";
import { z } from "zod";
import { Id } from "../id.js";
import { Quantity } from "../products/contract.js";

/** Where an order is: `pending` until its payment is decided. */
export const OrderStatus = z.enum(["pending", "paid", "payment_failed"]);

/** An order. */
export const Order = z.object({
	id: z.string(),
	productId: z.string(),
	quantity: z.number().int(),
	totalCents: z.number().int(),
	status: OrderStatus,
	createdAt: z.date(),
});
/** An order. */
export type Order = z.infer<typeof Order>;

/** The `orders` service. */
export const Orders = defineService(
	"orders",
	{
		place: {
			input: z.strictObject({
				productId: Id,
				quantity: Quantity,
			}),
			output: Order,
			description:
				"reserves stock, stores the order as pending and publishes order.placed",
		},
		get: {
			input: z.object({ id: Id }),
			output: Order,
			idempotent: true,
			description: "one order",
		},
	},
	{ description: "orders and their payment status" },
);

/** An order was stored as pending and its stock reserved. */
export const OrderPlaced = defineEvent(
	"order.placed",
	z.object({
		orderId: z.string(),
		productId: z.string(),
		quantity: z.number().int().positive(),
		totalCents: z.number().int().nonnegative(),
	}),
	{ version: 1 },
);
