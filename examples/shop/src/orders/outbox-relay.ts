/**
 * Publishes the orders outbox: right after an order is stored, and again on a timer for whatever a
 * broker outage left behind. Each entry keeps its event id, so a republished event is the same event,
 * and the headers of the request that placed the order (correlation id, trace context).
 */
import type { EventBus } from '@blueprint/events';
import { OrderPlaced } from './events.js';
import type { OrdersRepository } from './repository.js';

/** Publishes outbox entries; one flush runs at a time. */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: OrdersRepository,
    private readonly bus: EventBus,
    private readonly intervalMs = 1_000,
  ) {}

  /** Starts the periodic flush (unref'ed: it never keeps the process alive). */
  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a running flush. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Publishes every pending entry; an entry that fails stays for the next flush. */
  flush(): Promise<void> {
    this.running ??= this.publishPending().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async publishPending(): Promise<void> {
    for (const entry of this.repository.pendingEvents()) {
      if (entry.event !== OrderPlaced.name) continue;
      const headers =
        entry.headers === null ? undefined : (JSON.parse(entry.headers) as Record<string, string>);
      await this.bus.publish(OrderPlaced, JSON.parse(entry.payload), { id: entry.id, headers });
      this.repository.markPublished(entry.id);
    }
  }
}
