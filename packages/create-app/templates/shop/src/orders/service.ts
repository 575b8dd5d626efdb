/**
 * The orders service: places orders against the products contract, announces them, and follows
 * their payment through the payments service's events.
 */
import { randomUUID } from "node:crypto";
import {
	type ClientOf,
	type ImplementationOf,
	type InputOf,
	inject,
	injectable,
	injectService,
} from "@blueprint/core";
import {
	type EventBus,
	EventsTokens,
	OnEvent,
	type PayloadOf,
} from "@blueprint/events";
import { existing } from "../existing.js";
import { PaymentFailed, PaymentSucceeded } from "../payments/contract.js";
import { Products } from "../products/contract.js";
import { type Order, OrderPlaced, type Orders } from "./contract.js";

/** Implements {@link Orders}. */
@injectable()
export class OrdersService implements ImplementationOf<typeof Orders> {
	private readonly orders = new Map<string, Order>();

	constructor(
		@injectService(Products)
		private readonly products: ClientOf<typeof Products>,
		@inject(EventsTokens.Bus) private readonly bus: EventBus,
	) {}

	async place({
		productId,
		quantity,
	}: InputOf<typeof Orders, "place">): Promise<Order> {
		const product = await this.products.get({ id: productId });
		const id = randomUUID();
		await this.products.reserve({ orderId: id, productId, quantity });
		const order: Order = {
			id,
			productId,
			quantity,
			totalCents: product.priceCents * quantity,
			status: "pending",
			createdAt: new Date(),
		};
		this.orders.set(id, order);
		await this.bus.publish(OrderPlaced, {
			orderId: id,
			productId,
			quantity,
			totalCents: order.totalCents,
		});
		return order;
	}

	async get({ id }: InputOf<typeof Orders, "get">): Promise<Order> {
		return existing(this.orders, "order", id);
	}

	/** A paid order moves to `paid`. */
	@OnEvent(PaymentSucceeded)
	async onPaymentSucceeded({
		orderId,
	}: PayloadOf<typeof PaymentSucceeded>): Promise<void> {
		existing(this.orders, "order", orderId).status = "paid";
	}

	/** A declined order moves to `payment_failed` and its stock goes back (releasing twice is harmless). */
	@OnEvent(PaymentFailed)
	async onPaymentFailed({
		orderId,
	}: PayloadOf<typeof PaymentFailed>): Promise<void> {
		existing(this.orders, "order", orderId).status = "payment_failed";
		await this.products.release({ orderId });
	}
}
