/**
 * The payments service: charges each placed order once (simulated) and announces the outcome. The
 * charge, the inbox mark of the `order.placed` it handles and the outcome event commit in one SQLite
 * transaction (`@blueprint/events/outbox`), so a redelivered event changes nothing and an outcome is
 * never lost between the commit and the publish.
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
  type Telemetry,
} from '@blueprint/core';
import { type EventBus, type EventMeta, EventsTokens, OnEvent, type PayloadOf } from '@blueprint/events';
import { OrderPlaced } from '../orders/events.js';
import { openDatabaseFor, type ServiceDatabase } from '../shared/database.js';
import { type ServiceOutbox, serviceOutbox } from '../shared/outbox.js';
import type { Settings } from '../shared/settings.js';
import type { Payment, Payments } from './contract.js';
import { PaymentFailed, PaymentSucceeded } from './events.js';
import { PaymentsRepository } from './repository.js';

/** Implements {@link Payments} over its own SQLite database. */
@injectable()
export class PaymentsService implements ImplementationOf<typeof Payments>, OnStart, OnStop {
  private readonly db: ServiceDatabase;
  private readonly repository: PaymentsRepository;
  private readonly outbox: ServiceOutbox['outbox'];
  private readonly inbox: ServiceOutbox['inbox'];

  constructor(
    @inject(EventsTokens.Bus) private readonly bus: EventBus,
    @inject(CoreTokens.Settings) settings: Settings,
    @inject(CoreTokens.Health) health: HealthRegistry,
    @inject(CoreTokens.Telemetry) telemetry: Telemetry,
  ) {
    this.db = openDatabaseFor('payments', settings, health);
    this.repository = new PaymentsRepository(this.db);
    ({ outbox: this.outbox, inbox: this.inbox } = serviceOutbox(this.db, bus, telemetry, [
      PaymentSucceeded,
      PaymentFailed,
    ]));
  }

  async onStart(): Promise<void> {
    this.repository.migrate();
    await this.outbox.start();
  }

  async onStop(): Promise<void> {
    await this.outbox.stop();
    this.db.close();
  }

  async forOrder({ orderId }: InputOf<typeof Payments, 'forOrder'>): Promise<Payment> {
    const payment = this.repository.forOrder(orderId);
    if (payment === undefined)
      throw new NotFoundError(`no payment for order ${orderId}`, { details: { orderId } });
    return payment;
  }

  /**
   * Charges the order once: the inbox claim of this event id, the payment row and its outcome event
   * (through the outbox, with the payment id as event id) commit together. The same event handled
   * again finds its id claimed and does nothing; a failed attempt rolls all three back.
   */
  @OnEvent(OrderPlaced)
  async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>, meta: EventMeta): Promise<void> {
    this.db.transaction(() => {
      if (!this.inbox.claim(this.db, meta)) return;
      const payment = this.repository.charge(order.orderId, order.totalCents);
      const options = { id: payment.id, headers: meta.headers };
      this.outbox.within(this.db, () =>
        payment.status === 'succeeded'
          ? this.bus.publish(
              PaymentSucceeded,
              { orderId: order.orderId, paymentId: payment.id, amountCents: payment.amountCents },
              options,
            )
          : this.bus.publish(
              PaymentFailed,
              { orderId: order.orderId, reason: payment.reason ?? 'declined' },
              options,
            ),
      );
    })();
  }
}
