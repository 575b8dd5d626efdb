/**
 * The payments service: charges each placed order once (simulated) and announces the outcome.
 */
import { randomUUID } from "node:crypto";
import {
	type ImplementationOf,
	type InputOf,
	inject,
	injectable,
	NotFoundError,
} from "@blueprint/core";
import {
	type EventBus,
	EventsTokens,
	OnEvent,
	type PayloadOf,
} from "@blueprint/events";
import { OrderPlaced } from "../orders/contract.js";
import {
	PAYMENT_LIMIT_CENTS,
	type Payment,
	PaymentFailed,
	PaymentSucceeded,
	type Payments,
} from "./contract.js";

/** Implements {@link Payments}. */
@injectable()
export class PaymentsService implements ImplementationOf<typeof Payments> {
	/** Payments by order id: an order is charged once, however often its event arrives. */
	private readonly payments = new Map<string, Payment>();

	constructor(@inject(EventsTokens.Bus) private readonly bus: EventBus) {}

	async forOrder({
		orderId,
	}: InputOf<typeof Payments, "forOrder">): Promise<Payment> {
		const payment = this.payments.get(orderId);
		if (payment === undefined) {
			throw new NotFoundError(`no payment for order ${orderId}`, {
				details: { orderId },
			});
		}
		return payment;
	}

	@OnEvent(OrderPlaced)
	async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>): Promise<void> {
		const payment = this.payments.get(order.orderId) ?? this.charge(order);
		if (payment.status === "succeeded") {
			await this.bus.publish(PaymentSucceeded, {
				orderId: order.orderId,
				paymentId: payment.id,
				amountCents: payment.amountCents,
			});
		} else {
			await this.bus.publish(PaymentFailed, {
				orderId: order.orderId,
				reason: payment.reason ?? "declined",
			});
		}
	}

	private charge(order: PayloadOf<typeof OrderPlaced>): Payment {
		const declined = order.totalCents > PAYMENT_LIMIT_CENTS;
		const payment: Payment = {
			id: randomUUID(),
			orderId: order.orderId,
			amountCents: order.totalCents,
			status: declined ? "failed" : "succeeded",
			reason: declined
				? `${order.totalCents} cents is over the limit of ${PAYMENT_LIMIT_CENTS}`
				: null,
		};
		this.payments.set(order.orderId, payment);
		return payment;
	}
}
