/**
 * The outbox store conformance suite: what every outbox store keeps (rows commit and roll back with the
 * caller's transaction, come back in order, are marked sent, counted and parked; inbox marks dedupe in
 * the caller's transaction), and the outbox and relay on top of it, through a bus on the memory
 * transport. Call {@link describeOutboxStoreConformance} inside a vitest test file.
 */
import { waitFor } from '@blueprint/core/testing';
import { jsonCodec } from '@blueprint/core/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import type { EventEnvelope } from '../envelope.js';
import { EventsBrokerUnavailableError } from '../errors.js';
import { createEventBus, type EventBus } from '../event-bus.js';
import type { EventMeta } from '../handler.js';
import { createInbox } from '../outbox/inbox.js';
import { createOutbox, type Outbox } from '../outbox/outbox.js';
import type { OutboxRecord, OutboxStore, StoreMode } from '../outbox/outbox-store.js';
import type { EventTransport } from '../transport/event-transport.js';
import { createMemoryTransport } from '../transports/memory/index.js';

/** How the suite reaches a database. */
export interface OutboxStoreConformanceOptions<Tx> {
  /**
   * Makes a store on a fresh database (or fresh tables: pass `outboxTable` / `inboxTable`). Called once
   * per test; a second call in the same test (`another`) must reach the same tables.
   */
  createStore(another?: boolean): OutboxStore<Tx> | Promise<OutboxStore<Tx>>;
  /**
   * Runs `fn` in a transaction of the store's database and commits, or rolls back when `fn` throws
   * (the error is rethrown). For a synchronous store `fn` is called synchronously.
   */
  transaction<R>(fn: (tx: Tx) => R): Promise<Awaited<R>>;
  /** Runs `fn` with a handle that is not in a transaction. */
  outside<R>(fn: (tx: Tx) => R): Promise<Awaited<R>>;
  /** Removes what a test left. Called after each test. */
  cleanup?(): Promise<void>;
  /** Whether a second store on the same tables gets nothing from `claim` while the first holds it. Default: false. */
  readonly exclusiveClaim?: boolean;
}

const Noted = defineEvent('conformance.noted', z.object({ n: z.number().int().min(0), at: z.date() }));
const Other = defineEvent('conformance.other', z.object({ label: z.string() }));

const record = (n: number, name = 'conformance.noted'): OutboxRecord => ({
  id: `id-${n}`,
  name,
  envelope: `{"n":${n}}`,
  createdAt: 1_700_000_000_000 + n,
});

/** A memory transport whose publishes fail while `control.down` is set, as a stopped broker's would. */
function switchable(transport: EventTransport): { transport: EventTransport; control: { down: boolean } } {
  const control = { down: false };
  const refuse = () =>
    Promise.reject(new EventsBrokerUnavailableError('broker down', { details: { maybeStored: false } }));
  const proxy = new Proxy(transport, {
    get(target, property) {
      if (property === 'publish') {
        return (envelope: EventEnvelope) => (control.down ? refuse() : target.publish(envelope));
      }
      if (property === 'publishMany') {
        return (envelopes: readonly EventEnvelope[]) =>
          control.down ? refuse() : target.publishMany(envelopes);
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { transport: proxy, control };
}

/**
 * Registers the conformance tests for an outbox store.
 *
 * @example
 * describeOutboxStoreConformance('sqlite', {
 *   createStore: () => createSqliteOutboxStore(db),
 *   transaction: async (fn) => db.transaction(() => fn(db))(),
 *   outside: async (fn) => fn(db),
 * });
 */
export function describeOutboxStoreConformance<Tx>(
  name: string,
  harness: OutboxStoreConformanceOptions<Tx>,
): void {
  describe(`outbox store conformance: ${name}`, () => {
    let store: OutboxStore<Tx>;
    let buses: EventBus[] = [];
    let outboxes: Outbox<Tx, StoreMode>[] = [];

    beforeEach(async () => {
      store = await harness.createStore();
      await store.migrate();
    });

    afterEach(async () => {
      await Promise.all(outboxes.map((o) => o.stop()));
      await Promise.all(buses.map((b) => b.stop()));
      await store.release();
      outboxes = [];
      buses = [];
      await harness.cleanup?.();
    });

    /** Runs `next` after `value`: at once for a synchronous store (still inside its transaction). */
    const then = <R>(value: unknown, next: () => R): R | Promise<R> =>
      store.mode === 'sync' ? next() : Promise.resolve(value).then(next);
    const rollBack = () => {
      throw new Error('rolled back');
    };

    const add = (records: readonly OutboxRecord[]) => harness.transaction((tx) => store.add(tx, records));

    it('returns committed rows in order, with what was written', async () => {
      await add([record(1), record(2)]);
      await add([record(3, 'conformance.other')]);
      const rows = await store.claim(10);
      expect(rows.map((r) => r.id)).toEqual(['id-1', 'id-2', 'id-3']);
      expect(rows[0]).toMatchObject({
        id: 'id-1',
        name: 'conformance.noted',
        envelope: '{"n":1}',
        createdAt: 1_700_000_000_001,
        attempts: 0,
        lastError: undefined,
        parked: undefined,
      });
      expect(rows[0]!.seq).toBeLessThan(rows[1]!.seq);
      expect(rows[1]!.seq).toBeLessThan(rows[2]!.seq);
      expect(await store.claim(2)).toHaveLength(2);
      expect(await store.counts()).toEqual({ pending: 3, parked: 0 });
    });

    it('leaves nothing of a rolled-back transaction', async () => {
      await expect(harness.transaction((tx) => then(store.add(tx, [record(1)]), rollBack))).rejects.toThrow(
        'rolled back',
      );
      expect(await store.claim(10)).toEqual([]);
      expect(await store.counts()).toEqual({ pending: 0, parked: 0 });
    });

    it('refuses a write outside a transaction with a coded error and writes nothing', async () => {
      await expect(harness.outside(async (tx) => store.add(tx, [record(1)]))).rejects.toMatchObject({
        code: 'EVENTS_CONFIG_INVALID',
      });
      expect(await store.counts()).toEqual({ pending: 0, parked: 0 });
    });

    it('removes sent rows, counts attempts and parks rows it will not return again', async () => {
      await add([record(1), record(2), record(3), record(4)]);
      const [first, second, third] = await store.claim(3);
      await store.markSent([first!.seq, second!.seq]);
      await store.recordAttempt(third!.seq, 'EVENTS_BROKER_UNAVAILABLE: down');
      await store.recordAttempt(third!.seq, 'EVENTS_PUBLISH_TIMEOUT: slow');
      let rows = await store.claim(10);
      expect(rows.map((r) => r.id)).toEqual(['id-3', 'id-4']);
      expect(rows[0]).toMatchObject({ attempts: 2, lastError: 'EVENTS_PUBLISH_TIMEOUT: slow' });
      await store.park(third!.seq, 'malformed');
      rows = await store.claim(10);
      expect(rows.map((r) => r.id)).toEqual(['id-4']);
      expect(await store.counts()).toEqual({ pending: 1, parked: 1 });
      expect(await store.parked()).toMatchObject([{ id: 'id-3', parked: 'malformed' }]);
      await store.migrate();
      expect(await store.counts()).toEqual({ pending: 1, parked: 1 });
    });

    if (harness.exclusiveClaim === true) {
      it('lets one store claim the rows at a time', async () => {
        await add([record(1)]);
        const other = await harness.createStore(true);
        try {
          expect(await store.claim(10)).toHaveLength(1);
          expect(await other.claim(10)).toEqual([]);
          await store.release();
          expect(await other.claim(10)).toHaveLength(1);
        } finally {
          await other.release();
        }
      });
    }

    it('records an inbox mark once per group and event, with the transaction', async () => {
      const inbox = createInbox(store);
      const meta = { group: 'billing', id: 'evt-1' };
      expect(await harness.transaction((tx) => inbox.claim(tx, meta))).toBe(true);
      expect(await harness.transaction((tx) => inbox.claim(tx, meta))).toBe(false);
      expect(await harness.transaction((tx) => inbox.claim(tx, { group: 'shipping', id: 'evt-1' }))).toBe(
        true,
      );
      const rolledBack = { group: 'billing', id: 'evt-2' };
      await expect(harness.transaction((tx) => then(inbox.claim(tx, rolledBack), rollBack))).rejects.toThrow(
        'rolled back',
      );
      expect(await harness.transaction((tx) => inbox.claim(tx, rolledBack))).toBe(true);
      await expect(
        harness.outside(async (tx) => inbox.claim(tx, { group: 'x', id: 'y' })),
      ).rejects.toMatchObject({
        code: 'EVENTS_CONFIG_INVALID',
      });
      expect(() => inbox.claim(undefined as never, {} as EventMeta)).toThrow(/group and event id/);
      expect(await inbox.purge('1h')).toBe(0);
      expect(await store.purgeProcessed(Date.now() + 1_000)).toBe(3);
      expect(await harness.transaction((tx) => inbox.claim(tx, meta))).toBe(true);
    });

    describe('outbox and relay', () => {
      const start = async (switched = switchable(createMemoryTransport())) => {
        const bus = createEventBus({ transport: switched.transport, drainTimeout: 1_000 });
        buses.push(bus);
        const outbox = createOutbox({
          bus,
          store,
          events: [Noted, Other],
          interval: 50,
          backoff: { initial: 10, max: 50 },
        });
        outboxes.push(outbox);
        await outbox.start();
        const seen: { n: number; meta: EventMeta }[] = [];
        await bus.subscribe(Noted, ({ n }, meta) => void seen.push({ n, meta }), {
          group: 'g',
          concurrency: 1,
        });
        return { bus, outbox, control: switched.control, seen };
      };
      const noted = (n: number) => ({ n, at: new Date(1_700_000_000_000 + n) });

      it('delivers what a committed transaction published, in order, with its id and headers', async () => {
        const { bus, outbox, seen } = await start();
        const ids = await harness.transaction((tx) =>
          outbox.within(tx, () => [
            bus.publish(Noted, noted(0), { headers: { 'x-correlation-id': 'c-1' }, key: 'k' }),
            bus.publishMany(Noted, [noted(1), noted(2)]),
          ]),
        );
        const [one, many] = await Promise.all(ids as [Promise<string>, Promise<string[]>]);
        await waitFor(() => seen.length === 3, { timeout: 5_000, message: 'three events delivered' });
        expect(seen.map((s) => s.n)).toEqual([0, 1, 2]);
        expect(seen.map((s) => s.meta.id)).toEqual([one, ...many]);
        expect(seen[0]!.meta).toMatchObject({ key: 'k', headers: { 'x-correlation-id': 'c-1' } });
        await waitFor(async () => (await store.counts()).pending === 0, { message: 'the outbox to empty' });
        expect(outbox.stats()).toMatchObject({ written: 3, delivered: 3, parked: 0 });
        expect(bus.stats().published).toBe(3);
      });

      it('never delivers what a rolled-back transaction published', async () => {
        const { bus, outbox, seen } = await start();
        await expect(
          harness.transaction((tx) =>
            then(
              outbox.within(tx, () => bus.publish(Noted, noted(7))),
              rollBack,
            ),
          ),
        ).rejects.toThrow('rolled back');
        await harness.transaction((tx) => outbox.within(tx, () => bus.publish(Noted, noted(8))));
        await waitFor(() => seen.length === 1, { message: 'the committed event' });
        await outbox.flush();
        expect(seen.map((s) => s.n)).toEqual([8]);
      });

      it('refuses an invalid payload inside within: the transaction rolls back, nothing is stored', async () => {
        const { bus, outbox } = await start();
        await expect(
          harness.transaction((tx) => outbox.within(tx, () => bus.publish(Noted, { n: -1, at: new Date() }))),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        expect(await store.counts()).toEqual({ pending: 0, parked: 0 });
      });

      it('keeps rows while the broker is down and delivers them, once, when it is back', async () => {
        const { bus, outbox, seen, control } = await start();
        control.down = true;
        for (let n = 0; n < 5; n++) {
          await harness.transaction((tx) => outbox.within(tx, () => bus.publish(Noted, noted(n))));
        }
        await waitFor(() => outbox.stats().failedRounds >= 2, { message: 'failed rounds while down' });
        expect(seen).toEqual([]);
        expect(outbox.stats().lastError).toContain('EVENTS_BROKER_UNAVAILABLE');
        const [row] = await store.claim(1);
        await store.release();
        expect(row!.attempts).toBeGreaterThanOrEqual(1);
        control.down = false;
        await waitFor(() => seen.length === 5, {
          timeout: 5_000,
          message: 'all five after the broker is back',
        });
        expect(seen.map((s) => s.n)).toEqual([0, 1, 2, 3, 4]);
        await waitFor(() => outbox.stats().failing === 0, { message: 'the relay to recover' });
      });

      it('parks a corrupt row, reports it, and delivers the rows around it', async () => {
        const { bus, outbox, seen } = await start();
        const reported: string[] = [];
        const watched = createOutbox({
          bus,
          store,
          events: [Noted, Other],
          interval: 50,
          onError: (e, c) => void reported.push(`${c.kind}: ${(e as Error).message}`),
        });
        await outbox.stop();
        outboxes.push(watched);
        await harness.transaction((tx) => watched.within(tx, () => bus.publish(Noted, noted(1))));
        await add([
          { id: 'bad-json', name: 'conformance.noted', envelope: '{"id":', createdAt: Date.now() },
          {
            id: 'proto',
            name: 'conformance.noted',
            envelope: '{"__proto__":{"x":1}}',
            createdAt: Date.now(),
          },
          {
            id: 'unknown',
            name: 'conformance.unknown',
            envelope: jsonCodec.encode({
              id: 'unknown',
              name: 'conformance.unknown',
              version: 1,
              occurredAt: new Date(),
              headers: {},
            }),
            createdAt: Date.now(),
          },
        ]);
        await harness.transaction((tx) => watched.within(tx, () => bus.publish(Noted, noted(2))));
        await watched.start();
        await waitFor(() => seen.length === 2, { message: 'the two good rows' });
        expect(seen.map((s) => s.n)).toEqual([1, 2]);
        await waitFor(async () => (await store.counts()).pending === 0, { message: 'the good rows sent' });
        expect(await store.counts()).toEqual({ pending: 0, parked: 3 });
        expect(watched.stats().parked).toBe(3);
        expect((await store.parked()).map((r) => r.id)).toEqual(['bad-json', 'proto', 'unknown']);
        expect(reported.filter((r) => r.startsWith('parked: '))).toHaveLength(3);
        await watched.flush();
        expect(watched.stats().parked).toBe(3);
      });

      it('stops with the bus, waiting for a running round', async () => {
        const { bus, outbox } = await start();
        await harness.transaction((tx) => outbox.within(tx, () => bus.publish(Noted, noted(1))));
        let flushed = false;
        const flushing = outbox.flush().then(() => {
          flushed = true;
        });
        await bus.stop();
        expect(flushed).toBe(true);
        await flushing;
        await expect(
          harness.transaction((tx) => outbox.within(tx, () => bus.publish(Noted, noted(2)))),
        ).rejects.toMatchObject({ code: 'EVENTS_BUS_CLOSED' });
      });
    });
  });
}
