/**
 * The transactional outbox: `bus.publish` inside `outbox.within(tx, fn)` writes the event to the
 * outbox table in the caller's transaction instead of the broker, and the outbox's relay delivers the
 * rows to the bus's transport in order, removes what was delivered, and retries with backoff while the
 * broker is down. A row that can never be delivered (malformed, an unknown event) is parked and
 * reported, never retried forever.
 */
import type { Duration } from '@blueprint/core';
import {
  type Backoff,
  type BackoffFunction,
  durationSchema,
  parseOptions,
  toBackoffFunction,
} from '@blueprint/core/plugin';
import { z } from 'zod';
import type { AnyEvent } from '../define-event.js';
import { decodeEnvelope, type EventEnvelope, encodeEnvelope } from '../envelope.js';
import { EventsConfigError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import {
  attachToBus,
  type OutboxScope,
  runInOutboxScope,
  storedDeliveryOf,
} from '../internal/outbox-scope.js';
import { TimerSet } from '../internal/timer-set.js';
import { errorText, type OutboxRow, type OutboxStore, type StoreMode } from './outbox-store.js';

/** What went wrong in the relay, for {@link OutboxOptions.onError}. */
export interface OutboxErrorContext {
  /**
   * `delivery`: the transport refused a row (it stays and is retried after a backoff); `parked`: a row
   * can never be delivered and was set aside; `store`: the database failed.
   */
  readonly kind: 'delivery' | 'parked' | 'store';
  /** The row concerned, when there is one. */
  readonly row?: { readonly seq: number; readonly id: string; readonly name: string };
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions<Tx, Mode extends StoreMode> {
  /** The bus whose publishes inside `within` go to the outbox, and whose transport the relay delivers to. */
  readonly bus: EventBus;
  /** Where the rows live: `createSqliteOutboxStore(db)` or `createPostgresOutboxStore(pool)`. */
  readonly store: OutboxStore<Tx, Mode>;
  /**
   * The events this outbox may deliver. A row of another event or version, or whose payload fails its
   * schema, is parked. Default: every well-formed envelope is delivered.
   */
  readonly events?: readonly AnyEvent[];
  /** How often the relay looks for rows when nothing woke it. Default: `"1s"`. */
  readonly interval?: Duration;
  /** Rows read per round. Default: 100. */
  readonly batchSize?: number;
  /** Wait after a failed round (the broker is down), by consecutive failures. Default: `{ initial: "200ms", factor: 2, max: "10s", jitter: 0.2 }`. */
  readonly backoff?: Backoff;
  /** Called for delivery failures, parked rows and database errors. Default: nothing (see `stats()`). */
  readonly onError?: (error: unknown, context: OutboxErrorContext) => void;
}

/** Counters of an outbox. */
export interface OutboxStats {
  /** Events written to the outbox by this process (rolled-back writes included). */
  readonly written: number;
  /** Rows the relay delivered. */
  readonly delivered: number;
  /** Rounds that failed (the transport or the database refused). */
  readonly failedRounds: number;
  /** Rows the relay parked. */
  readonly parked: number;
  /** Consecutive failed rounds now: 0 when the last round worked. */
  readonly failing: number;
  /** The last error, as `CODE: message`. */
  readonly lastError: string | undefined;
}

/** What `within` returns: the callback's value for a synchronous store, a promise of it otherwise. */
export type WithinResult<R, Mode extends StoreMode> = Mode extends 'sync' ? R : Promise<Awaited<R>>;

/** An outbox and its relay. */
export interface Outbox<Tx, Mode extends StoreMode = StoreMode> {
  /** The store. */
  readonly store: OutboxStore<Tx, Mode>;
  /**
   * Runs `fn` so that every `bus.publish` / `bus.publishMany` of this outbox's bus inside it writes to
   * the outbox in transaction `tx`, with the same validation, id, headers (request context included) and
   * signature as a direct publish. A synchronous store (SQLite) writes at once and `within` throws what
   * a publish inside it failed with, so the transaction rolls back; an asynchronous one (PostgreSQL)
   * resolves once every write is done and rejects with the first failure.
   *
   * @example
   * db.transaction(() => {
   *   insertOrder.run(order);
   *   outbox.within(db, () => bus.publish(OrderPlaced, { orderId: order.id }));
   * })();
   */
  within<R>(tx: Tx, fn: () => R): WithinResult<R, Mode>;
  /** Creates the tables when missing and starts the relay (its timers are `unref`ed). Safe to call twice. */
  start(): Promise<void>;
  /** Delivers what is due now; resolves when the round ends (a round already running is joined). */
  flush(): Promise<void>;
  /** Stops the relay and waits for a running round. The bus's `stop()` calls it too. */
  stop(): Promise<void>;
  /** Counters. */
  stats(): OutboxStats;
}

const optionsSchema = z.object({
  interval: durationSchema.optional().default(1_000),
  batchSize: z.number().int().min(1).max(10_000).optional().default(100),
});

/** Backoff between failed relay rounds: 200 ms doubling up to 10 s, stretched by up to 20 %. */
export const OUTBOX_BACKOFF = { initial: 200, factor: 2, max: 10_000, jitter: 0.2 } as const;

class TransactionalOutbox<Tx, Mode extends StoreMode> implements Outbox<Tx, Mode> {
  readonly store: OutboxStore<Tx, Mode>;
  private readonly bus: EventBus;
  private readonly interval: number;
  private readonly batchSize: number;
  private readonly backoff: BackoffFunction;
  private readonly events: Map<string, AnyEvent[]> | undefined;
  private readonly onError: OutboxOptions<Tx, Mode>['onError'];
  private readonly timers = new TimerSet();
  private running: Promise<void> | undefined;
  private again = false;
  /** A wake-up round is scheduled: the writes that follow it in the same turn are delivered by it. */
  private waking = false;
  private started = false;
  private detach: (() => void) | undefined;
  private counters = { written: 0, delivered: 0, failedRounds: 0, parked: 0, failing: 0 };
  private lastError: string | undefined;

  constructor(options: OutboxOptions<Tx, Mode>) {
    if (typeof options?.bus?.publish !== 'function' || typeof options.store?.claim !== 'function') {
      throw new EventsConfigError(
        'createOutbox needs { bus, store }: the event bus and createSqliteOutboxStore(db) or createPostgresOutboxStore(pool)',
      );
    }
    this.bus = options.bus;
    this.store = options.store;
    ({ interval: this.interval, batchSize: this.batchSize } = parseOptions(
      optionsSchema,
      { interval: options.interval, batchSize: options.batchSize },
      { subject: 'createOutbox(options)', error: EventsConfigError },
    ));
    const delay = toBackoffFunction(options.backoff, {
      defaults: OUTBOX_BACKOFF,
      subject: 'createOutbox(options): backoff',
      error: EventsConfigError,
    });
    this.backoff = (attempt) => Math.max(1, delay(attempt));
    if (options.events !== undefined) {
      this.events = new Map();
      for (const event of options.events) {
        this.events.set(event.name, [...(this.events.get(event.name) ?? []), event]);
      }
    }
    this.onError = options.onError;
  }

  within<R>(tx: Tx, fn: () => R): WithinResult<R, Mode> {
    if (tx === undefined || tx === null) {
      throw new EventsConfigError(
        'outbox.within needs your transaction: the database handle or client that runs it',
      );
    }
    const sync = this.store.mode === 'sync';
    let failure: { error: unknown } | undefined;
    const writes: Promise<void>[] = [];
    const scope: OutboxScope = {
      bus: this.bus,
      write: (envelopes) => {
        const records = envelopes.map((envelope) => ({
          id: envelope.id,
          name: envelope.name,
          envelope: encodeEnvelope(envelope),
          createdAt: envelope.occurredAt.getTime(),
        }));
        const written = this.store.add(tx, records) as void | Promise<void>;
        if (written === undefined) {
          this.counters.written += records.length;
          return undefined;
        }
        const done = written.then(
          () => {
            this.counters.written += records.length;
          },
          (error: unknown) => {
            failure ??= { error };
            throw error;
          },
        );
        writes.push(done.catch(() => undefined));
        return done;
      },
      fail: (error) => {
        failure ??= { error };
        const rejected = Promise.reject(error);
        // A synchronous `within` throws this error itself: the returned promise needs no handler.
        if (sync) rejected.catch(() => undefined);
        return rejected;
      },
    };
    const result = runInOutboxScope(scope, fn);
    if (sync) {
      if (failure !== undefined) throw failure.error;
      this.wake();
      return result as WithinResult<R, Mode>;
    }
    return (async () => {
      const value = await result;
      await Promise.all(writes);
      if (failure !== undefined) throw failure.error;
      this.wake();
      return value;
    })() as WithinResult<R, Mode>;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.store.migrate();
    this.started = true;
    this.detach = attachToBus(this.bus, () => this.stop());
    this.timers.after(0, () => void this.flush());
  }

  /** Clears the relay's timers, the scheduled wake-up included. */
  private clearTimers(): void {
    this.timers.clear();
    this.waking = false;
  }

  flush(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
      if (this.again && this.started && this.counters.failing === 0) {
        this.again = false;
        void this.flush();
      }
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.detach?.();
    this.detach = undefined;
    this.clearTimers();
    await this.running;
  }

  stats(): OutboxStats {
    return { ...this.counters, lastError: this.lastError };
  }

  /** A write committed (or is about to): deliver soon, unless the relay is backing off. */
  private wake(): void {
    if (!this.started || this.counters.failing !== 0) return;
    // A round in progress may have claimed before this write committed, and its end clears the timers:
    // join it now (flush asks a running round for one more) instead of scheduling a timer it would cancel.
    if (this.running !== undefined) void this.flush();
    else if (this.store.mode !== 'sync') this.timers.after(0, () => void this.flush());
    else if (!this.waking) {
      // A synchronous store's write has committed before any timer runs: one timer serves every write
      // made until it fires, and the round it starts claims them all.
      this.waking = true;
      this.timers.after(0, () => {
        this.waking = false;
        void this.flush();
      });
    }
  }

  /** Delivers rows until none is due or a delivery fails; then waits the interval or the backoff. */
  private async round(): Promise<void> {
    this.again = false;
    let failed = false;
    try {
      await this.bus.connect();
      for (;;) {
        const rows = await this.store.claim(this.batchSize);
        if (rows.length === 0) break;
        if (!(await this.deliver(rows))) {
          failed = true;
          break;
        }
        if (rows.length < this.batchSize || !this.started) break;
      }
    } catch (error) {
      failed = true;
      this.report(error, { kind: 'store' });
    } finally {
      await this.store.release().catch((error: unknown) => this.report(error, { kind: 'store' }));
    }
    if (failed) {
      this.counters.failedRounds++;
      this.counters.failing++;
    } else {
      this.counters.failing = 0;
    }
    if (!this.started) return;
    this.clearTimers();
    const delay = failed ? this.backoff(this.counters.failing) : this.interval;
    this.timers.after(delay, () => void this.flush());
  }

  /**
   * Delivers `rows` in order, consecutive rows of one event as one batch. Parks the rows that can never
   * be delivered. Returns false when the transport refused (the rows from the refused batch on stay).
   */
  private async deliver(rows: readonly OutboxRow[]): Promise<boolean> {
    const runs: { rows: OutboxRow[]; envelopes: EventEnvelope[] }[] = [];
    for (const row of rows) {
      const checked = this.check(row);
      if (typeof checked === 'string') {
        await this.store.park(row.seq, checked);
        this.counters.parked++;
        this.report(new EventsConfigError(`outbox row ${row.seq} was parked: ${checked}`), {
          kind: 'parked',
          row: { seq: row.seq, id: row.id, name: row.name },
        });
        continue;
      }
      const last = runs.at(-1);
      if (last !== undefined && last.rows[0]!.name === row.name) {
        last.rows.push(row);
        last.envelopes.push(checked);
      } else {
        runs.push({ rows: [row], envelopes: [checked] });
      }
    }
    const sent: number[] = [];
    const transport = this.bus.transport;
    const deliver =
      storedDeliveryOf(this.bus) ??
      ((envelopes: readonly EventEnvelope[]) => transport.publishMany(envelopes));
    try {
      for (const run of runs) {
        await deliver(run.envelopes);
        for (const row of run.rows) sent.push(row.seq);
      }
    } catch (error) {
      const row = rows.find((r) => !sent.includes(r.seq) && runs.some((run) => run.rows.includes(r)));
      if (row !== undefined) await this.store.recordAttempt(row.seq, errorText(error));
      this.report(error, {
        kind: 'delivery',
        ...(row && { row: { seq: row.seq, id: row.id, name: row.name } }),
      });
      return false;
    } finally {
      if (sent.length > 0) {
        await this.store.markSent(sent);
        this.counters.delivered += sent.length;
      }
    }
    return true;
  }

  /** The envelope of a row, or why it can never be delivered. */
  private check(row: OutboxRow): EventEnvelope | string {
    let envelope: EventEnvelope;
    try {
      envelope = decodeEnvelope(row.envelope);
    } catch (error) {
      return `its envelope cannot be decoded (${(error as Error).message.slice(0, 200)})`;
    }
    if (envelope.id !== row.id || envelope.name !== row.name) {
      return 'its envelope names another event id or name than its row';
    }
    if (this.events === undefined) return envelope;
    const name = JSON.stringify(envelope.name.slice(0, 128));
    const versions = this.events.get(envelope.name);
    if (versions === undefined) return `event ${name} is not one of the outbox's events`;
    const event = versions.find((e) => e.version === envelope.version);
    if (event === undefined)
      return `version ${envelope.version} of event ${name} is not one of the outbox's events`;
    if (!event.schema.safeParse(envelope.payload).success) {
      return `its payload does not match the schema of ${name} version ${event.version}`;
    }
    return envelope;
  }

  private report(error: unknown, context: OutboxErrorContext): void {
    this.lastError = errorText(error);
    try {
      this.onError?.(error, context);
    } catch {
      // A failing reporter must not stop the relay.
    }
  }
}

/**
 * Creates an outbox on a store for a bus. Nothing runs until `start()`. Throws `EVENTS_CONFIG_INVALID`
 * for a bad option.
 *
 * @example
 * const outbox = createOutbox({ bus, store: createSqliteOutboxStore(db), events: [OrderPlaced] });
 * await outbox.start();
 */
export function createOutbox<Tx, Mode extends StoreMode>(options: OutboxOptions<Tx, Mode>): Outbox<Tx, Mode> {
  return new TransactionalOutbox(options);
}
