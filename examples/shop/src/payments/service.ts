/**
 * The payments service: charges each placed order once (simulated) and announces the outcome.
 */
import {
  CoreTokens,
  type HealthRegistry,
  type ImplementationOf,
  type InputOf,
  inject,
  injectable,
  NotFoundError,
  type OnStart,
  type OnStop,
} from '@blueprint/core';
import { type EventBus, type EventMeta, EventsTokens, OnEvent, type PayloadOf } from '@blueprint/events';
import { OrderPlaced } from '../orders/events.js';
import { openDatabaseFor, type ServiceDatabase } from '../shared/database.js';
import type { Settings } from '../shared/settings.js';
import type { Payment, Payments } from './contract.js';
import { PaymentFailed, PaymentSucceeded } from './events.js';
import { PaymentsRepository } from './repository.js';

/** Implements {@link Payments} over its own SQLite database. */
@injectable()
export class PaymentsService implements ImplementationOf<typeof Payments>, OnStart, OnStop {
  private readonly db: ServiceDatabase;
  private readonly repository: PaymentsRepository;

  constructor(
    @inject(EventsTokens.Bus) private readonly bus: EventBus,
    @inject(CoreTokens.Settings) settings: Settings,
    @inject(CoreTokens.Health) health: HealthRegistry,
  ) {
    this.db = openDatabaseFor('payments', settings, health);
    this.repository = new PaymentsRepository(this.db);
  }

  onStart(): void {
    this.repository.migrate();
  }

  onStop(): void {
    this.db.close();
  }

  async forOrder({ orderId }: InputOf<typeof Payments, 'forOrder'>): Promise<Payment> {
    const payment = this.repository.forOrder(orderId);
    if (payment === undefined)
      throw new NotFoundError(`no payment for order ${orderId}`, { details: { orderId } });
    return payment;
  }

  /**
   * Charges the order once. Handling the same event again finds the stored payment and announces the
   * same outcome with the same event id, so the orders service sees one event.
   */
  @OnEvent(OrderPlaced)
  async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta): Promise<void> {
    const { payment } = this.repository.chargeOnce(order.orderId, order.totalCents);
    const options = { id: payment.id, headers: meta.headers };
    if (payment.status === 'succeeded') {
      await this.bus.publish(
        PaymentSucceeded,
        { orderId: order.orderId, paymentId: payment.id, amountCents: payment.amountCents },
        options,
      );
    } else {
      await this.bus.publish(
        PaymentFailed,
        { orderId: order.orderId, reason: payment.reason ?? 'declined' },
        options,
      );
    }
  }
}
