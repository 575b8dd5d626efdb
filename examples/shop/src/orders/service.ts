/**
 * The orders service: places orders against the products contract, stores each with its `order.placed`
 * in one transaction (the framework's outbox delivers the event), and follows their payment through
 * events.
 */
import { randomUUID } from 'node:crypto';
import {
  type CallContext,
  type ClientOf,
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
import { createOutbox, createSqliteOutboxStore, type Outbox } from '@blueprint/events/outbox';
import { PaymentFailed, PaymentSucceeded } from '../payments/events.js';
import { Products } from '../products/contract.js';
import { openDatabaseFor, type ServiceDatabase } from '../shared/database.js';
import type { Settings } from '../shared/settings.js';
import type { Order, Orders } from './contract.js';
import { OrderPlaced } from './events.js';
import { OrdersRepository } from './repository.js';

/** Implements {@link Orders} over its own SQLite database. */
@injectable()
export class OrdersService implements ImplementationOf<typeof Orders>, OnStart, OnStop {
  private readonly db: ServiceDatabase;
  private readonly repository: OrdersRepository;
  private readonly outbox: Outbox<ServiceDatabase, 'sync'>;
  /** Stores an order with its `order.placed` in one transaction (made once, run per order). */
  private readonly storePlaced: (
    order: Order,
    payload: PayloadOf<typeof OrderPlaced>,
    headers: Record<string, string>,
  ) => void;

  constructor(
    @inject(Products.token) private readonly products: ClientOf<typeof Products>,
    @inject(EventsTokens.Bus) private readonly bus: EventBus,
    @inject(CoreTokens.Settings) settings: Settings,
    @inject(CoreTokens.Health) health: HealthRegistry,
    @inject(CoreTokens.Telemetry) private readonly telemetry: Telemetry,
  ) {
    this.db = openDatabaseFor('orders', settings, health);
    this.repository = new OrdersRepository(this.db);
    const logger = telemetry.logger.child({ component: 'outbox' });
    this.outbox = createOutbox({
      bus,
      store: createSqliteOutboxStore(this.db),
      events: [OrderPlaced],
      onError: (error, { kind, row }) =>
        logger[kind === 'delivery' ? 'warn' : 'error']({ err: error, kind, row }, 'outbox: %s', kind),
    });
    this.storePlaced = this.db.transaction((order, payload, headers) => {
      this.repository.insert(order);
      this.outbox.within(this.db, () => this.bus.publish(OrderPlaced, payload, { headers }));
    });
  }

  async onStart(): Promise<void> {
    this.repository.migrate();
    await this.outbox.start();
  }

  async onStop(): Promise<void> {
    await this.outbox.stop();
    this.db.close();
  }

  async place(
    { productId, quantity }: InputOf<typeof Orders, 'place'>,
    context?: CallContext,
  ): Promise<Order> {
    const callContext = { headers: context?.headers };
    const product = await this.products.get({ id: productId }, callContext);
    const id = randomUUID();
    await this.products.reserve({ orderId: id, productId, quantity }, callContext);
    const order: Order = {
      id,
      productId,
      quantity,
      totalCents: product.priceCents * quantity,
      status: 'pending',
      createdAt: new Date(),
    };
    const payload: PayloadOf<typeof OrderPlaced> = {
      orderId: id,
      productId,
      quantity,
      totalCents: order.totalCents,
    };
    const correlationId = context?.headers?.['x-correlation-id'];
    const headers = this.telemetry.injectHeaders<Record<string, string>>(
      correlationId === undefined ? {} : { 'x-correlation-id': correlationId },
    );
    this.storePlaced(order, payload, headers);
    // The order as stored: its row holds exactly these values, so it is answered without reading it back.
    return order;
  }

  async get({ id }: InputOf<typeof Orders, 'get'>): Promise<Order> {
    const order = this.repository.find(id);
    if (order === undefined) throw new NotFoundError(`order ${id} does not exist`, { details: { id } });
    return order;
  }

  /**
   * A paid order moves to `paid`. An order that was already settled keeps its status: a late or
   * repeated `payment.succeeded` never turns a declined order (whose stock went back) into a paid one.
   */
  @OnEvent(PaymentSucceeded, { inbox: true })
  async onPaymentSucceeded(payment: PayloadOf<typeof PaymentSucceeded>): Promise<void> {
    // A pending order that settles exists: only an order that did not move needs looking for.
    if (!this.repository.settle(payment.orderId, 'paid')) this.requireOrder(payment.orderId);
  }

  /**
   * A declined order moves to `payment_failed` and its stock goes back. The stock is released only when
   * this event settled the order, or settled it on an earlier attempt whose release failed (releasing
   * twice is harmless); an order that is already `paid` keeps its stock sold.
   */
  @OnEvent(PaymentFailed, { inbox: true })
  async onPaymentFailed(payment: PayloadOf<typeof PaymentFailed>, meta: EventMeta): Promise<void> {
    this.requireOrder(payment.orderId);
    const settled = this.repository.settle(payment.orderId, 'payment_failed');
    if (!settled && this.repository.find(payment.orderId)?.status !== 'payment_failed') return;
    await this.products.release({ orderId: payment.orderId }, { headers: meta.headers });
  }

  private requireOrder(id: string): void {
    if (this.repository.find(id) === undefined) throw new NotFoundError(`order ${id} is not stored here`);
  }
}
