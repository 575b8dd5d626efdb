/**
 * The products service: the catalog in memory. Reads are cached; a reservation or a release
 * invalidates the cached product and the cached catalog.
 */
import {
	type Cache,
	Cached,
	CacheInvalidate,
	CacheTokens,
} from "@blueprint/cache";
import {
	type ImplementationOf,
	type InputOf,
	inject,
	injectable,
} from "@blueprint/core";
import { existing } from "../existing.js";
import { OutOfStockError, type Product, type Products } from "./contract.js";

/** The catalog a new process starts with. */
export const CATALOG: readonly Product[] = [
	{
		id: "p-keyboard",
		name: "Mechanical keyboard",
		priceCents: 8_900,
		stock: 50,
	},
	{ id: "p-mouse", name: "Wireless mouse", priceCents: 2_900, stock: 50 },
	{ id: "p-monitor", name: '27" monitor', priceCents: 32_900, stock: 20 },
	{ id: "p-server", name: "Rack server", priceCents: 1_250_000, stock: 5 },
];

type ReserveInput = InputOf<typeof Products, "reserve">;
type ReleaseInput = InputOf<typeof Products, "release">;
type Reservation = { productId: string; quantity: number; released: boolean };

const productTag = (id: string) => `product:${id}`;

/** Implements {@link Products}. */
@injectable()
export class ProductsService implements ImplementationOf<typeof Products> {
	private readonly products = new Map(
		CATALOG.map((product) => [product.id, { ...product }]),
	);
	/** Reservations by order id: reserving and releasing are idempotent. */
	private readonly reservations = new Map<string, Reservation>();

	constructor(@inject(CacheTokens.Cache) private readonly cache: Cache) {}

	@Cached({ ttl: "30s", tags: ["catalog"] })
	async list(): Promise<Product[]> {
		return [...this.products.values()].map((product) => ({ ...product }));
	}

	@Cached({
		ttl: "30s",
		tags: ({ id }: InputOf<typeof Products, "get">) => [productTag(id)],
	})
	async get({ id }: InputOf<typeof Products, "get">): Promise<Product> {
		return { ...existing(this.products, "product", id) };
	}

	@CacheInvalidate({
		tags: ({ productId }: ReserveInput) => [productTag(productId), "catalog"],
	})
	async reserve({ orderId, productId, quantity }: ReserveInput) {
		const product = existing(this.products, "product", productId);
		if (!this.reservations.has(orderId)) {
			if (product.stock < quantity) {
				throw new OutOfStockError(
					`product ${productId} has ${product.stock} in stock, ${quantity} requested`,
					{
						details: {
							productId,
							available: product.stock,
							requested: quantity,
						},
					},
				);
			}
			product.stock -= quantity;
			this.reservations.set(orderId, { productId, quantity, released: false });
		}
		return { productId, stock: product.stock };
	}

	/** The tags to invalidate depend on the stored reservation, so this method tells the cache itself. */
	async release({ orderId }: ReleaseInput) {
		const reservation = this.reservations.get(orderId);
		if (reservation === undefined) return null;
		const product = existing(this.products, "product", reservation.productId);
		if (!reservation.released) {
			product.stock += reservation.quantity;
			reservation.released = true;
			await this.cache.invalidateTags([productTag(product.id), "catalog"]);
		}
		return { productId: product.id, stock: product.stock };
	}
}
