/**
 * The contract, implementation and app that the RPC conformance suite calls. They are exported so a
 * transport written outside this package can host them (for example in a child process) and run the
 * suite against them.
 */
import { z } from 'zod';
import { type AppDefinition, defineApp } from '../app.js';
import { injectable } from '../container.js';
import { type CallContext, defineService, type ImplementationOf } from '../contract.js';
import { defineError, NotFoundError } from '../errors.js';
import { service } from '../service.js';
import { delay } from '../timing.js';

/** An application error listed in the conformance contract's `errors` (`CONFORMANCE_REJECTED`, 422). */
export const ConformanceRejectedError = defineError('CONFORMANCE_REJECTED', 422, 'ConformanceRejectedError');

/**
 * An application error the conformance contract does NOT list (`CONFORMANCE_UNLISTED`, 409): remote
 * callers keep its code, message and details but cannot rebuild its class.
 */
export const ConformanceUnlistedError = defineError('CONFORMANCE_UNLISTED', 409, 'ConformanceUnlistedError');

/** Values that JSON alone would lose: the conformance suite sends them and expects them back. */
export const ConformanceValues = z.object({
  at: z.date(),
  big: z.bigint(),
  map: z.map(z.string(), z.date()),
  set: z.set(z.number()),
  list: z.array(z.string().optional()),
  nullable: z.string().nullable(),
  optional: z.string().optional(),
  nested: z.object({ when: z.date(), tags: z.array(z.string()) }),
});

/** What `ConformanceService.stats` reports; the suite reads it to prove what ran and what did not. */
export const ConformanceStats = z.object({
  /** Implementation calls so far, `stats` and `count` excluded. */
  calls: z.number().int(),
  /** `slow` calls that began. */
  slowStarted: z.number().int(),
  /** `slow` calls whose context signal aborted. */
  slowAborted: z.number().int(),
  /** `slow` calls that waited their full time. */
  slowFinished: z.number().int(),
});

/** The failures `fail` can produce. */
export const ConformanceFailure = z.enum([
  'rejected',
  'unlisted',
  'not-found',
  'plain',
  'node-coded',
  'non-error',
]);

/** The contract the RPC conformance suite calls. Service name: `conformance`. */
export const Conformance = defineService(
  'conformance',
  {
    echo: { input: ConformanceValues, output: ConformanceValues, idempotent: true },
    add: {
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.object({ sum: z.number() }),
      idempotent: true,
    },
    fail: { input: z.object({ kind: ConformanceFailure }), output: z.void() },
    typed: {
      input: z.object({
        name: z.string().min(1),
        tags: z.array(z.string()),
        nested: z.object({ n: z.number().int() }),
      }),
      output: z.object({ ok: z.boolean() }),
    },
    badOutput: { input: z.void(), output: z.object({ count: z.number() }) },
    shaped: {
      input: z.object({ n: z.number().transform((n) => n * 10) }),
      output: z.object({
        n: z.number().transform((n) => n + 1),
        label: z.string().default('none'),
        at: z.iso.datetime().transform((text) => new Date(text)),
      }),
    },
    reset: { input: z.void(), output: z.void() },
    increment: { input: z.void(), output: z.number().int() },
    count: { input: z.void(), output: z.number().int(), idempotent: true },
    slow: { input: z.object({ ms: z.number().int().min(0) }), output: z.object({ waited: z.number() }) },
    rendezvous: {
      input: z.object({ id: z.string(), parties: z.number().int().min(1) }),
      output: z.object({ parties: z.number().int() }),
    },
    headers: { input: z.void(), output: z.object({ correlationId: z.string().nullable() }) },
    remember: { input: z.object({ at: z.date() }), output: z.void() },
    recall: { input: z.void(), output: z.object({ at: z.date() }) },
    stats: { input: z.void(), output: ConformanceStats, idempotent: true },
  },
  { errors: [ConformanceRejectedError], description: 'Fixture of the RPC conformance suite.' },
);

interface Meeting {
  arrived: number;
  release: () => void;
  readonly met: Promise<void>;
}

/** The implementation of {@link Conformance}. State lives in the instance: one per process. */
@injectable()
export class ConformanceService implements ImplementationOf<typeof Conformance> {
  private calls = 0;
  private counter = 0;
  private slowStarted = 0;
  private slowAborted = 0;
  private slowFinished = 0;
  private remembered = new Date(0);
  private readonly meetings = new Map<string, Meeting>();

  async echo(values: z.output<typeof ConformanceValues>) {
    this.calls++;
    return values;
  }

  async add({ a, b }: { a: number; b: number }) {
    this.calls++;
    return { sum: a + b };
  }

  async fail({ kind }: { kind: z.output<typeof ConformanceFailure> }): Promise<void> {
    this.calls++;
    switch (kind) {
      case 'rejected':
        throw new ConformanceRejectedError('order 42 is closed; open a new one', {
          details: { orderId: 42, tags: ['closed'] },
        });
      case 'unlisted':
        throw new ConformanceUnlistedError('order 43 was changed meanwhile', { details: { orderId: 43 } });
      case 'not-found':
        throw new NotFoundError('no order 7', { details: { id: 7 } });
      case 'plain':
        throw new Error('x');
      case 'node-coded':
        throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      case 'non-error':
        throw 'a bare string';
    }
  }

  async typed(_input: { name: string; tags: string[]; nested: { n: number } }) {
    this.calls++;
    return { ok: true };
  }

  async badOutput() {
    this.calls++;
    return { count: 'three' } as unknown as { count: number };
  }

  async shaped({ n }: { n: number }) {
    this.calls++;
    return { n, at: '2024-01-02T03:04:05.000Z' };
  }

  async reset() {
    this.calls++;
  }

  async increment() {
    this.calls++;
    return ++this.counter;
  }

  async count() {
    return this.counter;
  }

  async slow({ ms }: { ms: number }, context?: CallContext) {
    this.calls++;
    this.slowStarted++;
    try {
      await delay(ms, context?.signal);
    } catch (error) {
      this.slowAborted++;
      throw error;
    }
    this.slowFinished++;
    return { waited: ms };
  }

  async rendezvous({ id, parties }: { id: string; parties: number }, context?: CallContext) {
    this.calls++;
    let meeting = this.meetings.get(id);
    if (meeting === undefined) {
      let release!: () => void;
      const met = new Promise<void>((resolve) => {
        release = resolve;
      });
      meeting = { arrived: 0, release, met };
      this.meetings.set(id, meeting);
    }
    meeting.arrived++;
    if (meeting.arrived >= parties) {
      this.meetings.delete(id);
      meeting.release();
    }
    const { met } = meeting;
    const signal = context?.signal;
    if (signal === undefined) await met;
    else {
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        void met.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    return { parties };
  }

  async headers(_input: unknown, context?: CallContext) {
    this.calls++;
    return { correlationId: context?.headers?.['x-correlation-id'] ?? null };
  }

  async remember({ at }: { at: Date }) {
    this.calls++;
    this.remembered = at;
  }

  async recall() {
    this.calls++;
    return { at: this.remembered };
  }

  async stats() {
    const { calls, slowStarted, slowAborted, slowFinished } = this;
    return { calls, slowStarted, slowAborted, slowFinished };
  }
}

/** An app with the conformance service, to build with `createApp` in any topology. App name: `conformance`. */
export const conformanceApp: AppDefinition = defineApp({
  name: 'conformance',
  services: [service(Conformance, ConformanceService)],
});
