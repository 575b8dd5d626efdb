/**
 * The seam between the bus and `@blueprint/events/outbox`: while an outbox scope is active (an
 * `outbox.within(tx, fn)` call), the bus hands the envelopes of that outbox's bus to the scope instead
 * of its transport; the relay delivers the stored envelopes through the bus (counted as its publishes);
 * and the parts attached to a bus (an outbox relay) stop first when the bus stops.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEnvelope, LocalEnvelope } from '../envelope.js';

/** Where the bus writes envelopes published inside `outbox.within(tx, fn)`. */
export interface OutboxScope {
  /** The bus whose publishes go to this outbox (another bus publishes as usual). */
  readonly bus: object;
  /** Writes the envelopes in the scope's transaction: synchronously (SQLite) or with a promise. */
  write(envelopes: readonly LocalEnvelope[]): void | Promise<void>;
  /** Records a publish that failed before writing (validation), and gives the promise `publish` returns. */
  fail(error: unknown): Promise<never>;
}

const scopes = new AsyncLocalStorage<OutboxScope>();
let used = false;

/** The active outbox scope, if any. Costs nothing until a scope was ever entered. */
export function activeOutboxScope(): OutboxScope | undefined {
  return used ? scopes.getStore() : undefined;
}

/** Runs `fn` with `scope` active. */
export function runInOutboxScope<R>(scope: OutboxScope, fn: () => R): R {
  used = true;
  return scopes.run(scope, fn);
}

const attached = new WeakMap<object, Set<() => Promise<void>>>();

/** Makes `stop` run first when `bus` stops. Returns the function that detaches it. */
export function attachToBus(bus: object, stop: () => Promise<void>): () => void {
  const parts = attached.get(bus) ?? new Set();
  attached.set(bus, parts);
  parts.add(stop);
  return () => parts.delete(stop);
}

/** Stops what is attached to `bus` (errors are left to each part to report). */
export async function stopAttached(bus: object): Promise<void> {
  const parts = attached.get(bus);
  if (parts === undefined) return;
  await Promise.allSettled([...parts].map((stop) => stop()));
}

/** How a bus delivers envelopes stored earlier (an outbox's rows, all of one event): counted as its publishes. */
export type StoredDelivery = (envelopes: readonly EventEnvelope[]) => Promise<void>;

const deliveries = new WeakMap<object, StoredDelivery>();

/** Registers how `bus` delivers stored envelopes (the bus does it when it is made). */
export function registerStoredDelivery(bus: object, deliver: StoredDelivery): void {
  deliveries.set(bus, deliver);
}

/** How `bus` delivers stored envelopes, when it registered one. */
export function storedDeliveryOf(bus: object): StoredDelivery | undefined {
  return deliveries.get(bus);
}
