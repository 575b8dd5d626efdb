import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { createEventBus } from '../event-bus.js';
import { describeOutboxStoreConformance } from '../testing/outbox-store-conformance.js';
import { createMemoryTransport } from '../transports/memory/index.js';
import { createOutbox } from './outbox.js';
import { createSqliteOutboxStore, type SqliteDatabase } from './sqlite.js';

let db: SqliteDatabase | undefined;

describeOutboxStoreConformance('sqlite', {
  createStore: () => {
    db ??= new Database(':memory:');
    return createSqliteOutboxStore(db);
  },
  transaction: async (fn) => {
    const handle = db!;
    let result: unknown;
    // better-sqlite3 refuses a transaction function that returns a promise (a publish's, say).
    handle.transaction(() => {
      result = fn(handle);
    })();
    return (await result) as never;
  },
  outside: async (fn) => (await fn(db!)) as never,
  cleanup: async () => {
    db?.close();
    db = undefined;
  },
});

describe('createSqliteOutboxStore', () => {
  it('refuses what is not a better-sqlite3 database and bad table names', () => {
    expect(() => createSqliteOutboxStore({} as never)).toThrow(/better-sqlite3 database/);
    const memory = new Database(':memory:');
    expect(() => createSqliteOutboxStore(memory, { outboxTable: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({ code: 'EVENTS_CONFIG_INVALID' }),
    );
    memory.close();
  });

  it('refuses a write with another database handle', () => {
    const one = new Database(':memory:');
    const two = new Database(':memory:');
    const store = createSqliteOutboxStore(one);
    expect(() =>
      two.transaction(() => store.add(two, [{ id: 'a', name: 'n', envelope: '{}', createdAt: 0 }]))(),
    ).toThrow(/another database handle/);
    one.close();
    two.close();
  });
});

describe('outbox relay on sqlite', () => {
  it('wakes once for the writes of one turn, and again for a write after that round', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const turns = async (until: () => boolean) => {
      for (let i = 0; i < 1_000 && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const Tick = defineEvent('relay.tick', z.object({ n: z.number() }));
    const bus = createEventBus({ transport: createMemoryTransport(), drainTimeout: 1_000 });
    const db = new Database(':memory:');
    const outbox = createOutbox({ bus, store: createSqliteOutboxStore(db), events: [Tick], interval: '1h' });
    const seen: number[] = [];
    const write = (n: number) =>
      db.transaction(() => {
        outbox.within(db, () => void bus.publish(Tick, { n }));
      })();
    try {
      await bus.subscribe(Tick, ({ n }) => void seen.push(n), { group: 'g' });
      await outbox.start();
      await outbox.flush();
      const waiting = vi.getTimerCount();
      for (let n = 1; n <= 5; n++) write(n);
      expect(vi.getTimerCount()).toBe(waiting + 1);
      vi.advanceTimersByTime(0);
      await turns(() => seen.length === 5);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(outbox.stats()).toMatchObject({ written: 5, delivered: 5 });
      await turns(() => vi.getTimerCount() === waiting);
      write(6);
      vi.advanceTimersByTime(0);
      await turns(() => seen.length === 6);
      expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      vi.useRealTimers();
      await bus.stop();
      db.close();
    }
  });

  it('delivers a write committed while a round is ending, without waiting for the next poll', async () => {
    // Only the relay's timers are faked: a write must not depend on a timer that the round's end clears.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const turns = async (until: () => boolean) => {
      for (let i = 0; i < 1_000 && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const Tick = defineEvent('relay.tick', z.object({ n: z.number() }));
    const memory = createMemoryTransport();
    let gate: (() => void) | undefined;
    // The first delivery waits until the test opens the gate; later ones go straight through.
    const transport = new Proxy(memory, {
      get(target, property) {
        if (property === 'publishMany' || property === 'publish') {
          const forward = Reflect.get(target, property, target).bind(target);
          return async (value: never) => {
            if (gate === undefined) await new Promise<void>((resolve) => (gate = resolve));
            return forward(value);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const bus = createEventBus({ transport, drainTimeout: 1_000 });
    const db = new Database(':memory:');
    const outbox = createOutbox({ bus, store: createSqliteOutboxStore(db), events: [Tick], interval: '1h' });
    const seen: number[] = [];
    try {
      await bus.subscribe(Tick, ({ n }) => void seen.push(n), { group: 'g' });
      await outbox.start();
      await outbox.flush(); // the first round, with nothing to send, ends: the relay waits for writes
      db.transaction(() => {
        outbox.within(db, () => void bus.publish(Tick, { n: 1 }));
      })();
      vi.advanceTimersByTime(0);
      await turns(() => gate !== undefined);
      expect(gate).toBeDefined();
      // Committed after the running round claimed: that round ends without it.
      db.transaction(() => {
        outbox.within(db, () => void bus.publish(Tick, { n: 2 }));
      })();
      gate!();
      await turns(() => seen.length === 2);
      expect(seen).toEqual([1, 2]);
    } finally {
      vi.useRealTimers();
      await bus.stop();
      db.close();
    }
  });
});
