/**
 * The products contract: the catalog and its stock.
 */
import { defineError, defineService } from "@blueprint/core";
import { z } from "zod";
import { Id } from "../id.js";

/** A product as the catalog shows it. */
export const Product = z.object({
	id: z.string(),
	name: z.string(),
	priceCents: z.number().int().nonnegative(),
	stock: z.number().int().nonnegative(),
});
/** A product. */
export type Product = z.infer<typeof Product>;

/** Not enough stock for a reservation (409). `details` has `available` and `requested`. */
export const OutOfStockError = defineError(
	"OUT_OF_STOCK",
	409,
	"OutOfStockError",
);

/** How many of a product one order takes: 1 to 100 (`orders.place` passes it on to `reserve`). */
export const Quantity = z.number().int().min(1).max(100);

const StockLevel = z.object({ productId: z.string(), stock: z.number().int() });

/** The `products` service. */
export const Products = defineService(
	"products",
	{
		list: {
			input: z.void(),
			output: z.array(Product),
			idempotent: true,
			description: "the whole catalog (cached)",
		},
		get: {
			input: z.object({ id: Id }),
			output: Product,
			idempotent: true,
			description: "one product (cached)",
		},
		reserve: {
			input: z.object({
				orderId: Id,
				productId: Id,
				quantity: Quantity,
			}),
			output: StockLevel,
			idempotent: true,
			description:
				"takes stock for an order; reserving again for the same order changes nothing",
		},
		release: {
			input: z.object({ orderId: Id }),
			output: StockLevel.nullable(),
			idempotent: true,
			description:
				"gives an order's stock back; null when the order reserved nothing",
		},
	},
	{ errors: [OutOfStockError], description: "catalog and stock" },
);
