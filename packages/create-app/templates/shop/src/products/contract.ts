/**
 * The products contract: the catalog and its stock.
 */
import { defineError, defineService } from "@blueprint/core";
import { z } from "zod";

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
			input: z.object({ id: z.string().min(1).max(100) }),
			output: Product,
			idempotent: true,
			description: "one product (cached)",
		},
		reserve: {
			input: z.object({
				orderId: z.string().min(1).max(100),
				productId: z.string().min(1).max(100),
				quantity: z.number().int().min(1).max(100),
			}),
			output: StockLevel,
			idempotent: true,
			description:
				"takes stock for an order; reserving again for the same order changes nothing",
		},
		release: {
			input: z.object({ orderId: z.string().min(1).max(100) }),
			output: StockLevel.nullable(),
			idempotent: true,
			description:
				"gives an order's stock back; null when the order reserved nothing",
		},
	},
	{ errors: [OutOfStockError], description: "catalog and stock" },
);
