/**
 * The RPC conformance suite: one set of vitest tests that every RPC transport passes, so a caller sees
 * the same results, errors and validation failures whether a service is in its process or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyContract, ClientOf } from '../contract.js';
import {
  AbortedError,
  BlueprintError,
  hasErrorCode,
  InternalError,
  isBlueprintError,
  NotFoundError,
  ServiceError,
  TimeoutError,
  ValidationError,
} from '../errors.js';
import {
  Conformance,
  ConformanceRejectedError,
  type ConformanceStats,
  ConformanceUnlistedError,
} from './rpc-fixtures.js';
import { waitFor } from './wait-for.js';

/** What the suite's `setup` returns: a way to get clients, and a way to tear everything down. */
export interface RpcConformanceTarget {
  /** The client of a contract as callers receive it (e.g. `app.client(contract)`). */
  client<C extends AnyContract>(contract: C): ClientOf<C>;
  /** Stops whatever `setup` started (apps, servers, child processes). */
  close(): Promise<void>;
}

/** Options of {@link describeRpcConformance}. */
export interface RpcConformanceOptions {
  /**
   * True for a transport that hands values over by reference instead of copying them: the `local`
   * transport without `serialize`. The suite then expects what such a transport really does (the caller
   * and the implementation share a `Date` it passed; an object key whose value is `undefined` stays; an
   * error class not listed in the contract stays that class) instead of what the wire does. Default: false.
   */
  readonly byReference?: boolean;
  /** How long the suite waits for the implementation to observe something (ms). Default: 5000. */
  readonly patience?: number;
  /**
   * True for a transport whose server answers an uncoded error to another process with a generic
   * message naming a correlation id (the `http` transport does: the original message may carry file
   * paths or SQL): the suite then expects `INTERNAL` with that message and none of the original text,
   * instead of the original message. Default: false.
   */
  readonly hidesInternal?: boolean;
}

type Stats = ReturnType<typeof ConformanceStats.parse>;

/** A fresh set of values that plain JSON would lose. */
function sampleValues() {
  return {
    at: new Date('2024-02-29T12:34:56.789Z'),
    big: 2n ** 70n + 1n,
    map: new Map([
      ['first', new Date(0)],
      ['second', new Date('2030-01-01T00:00:00.000Z')],
    ]),
    set: new Set([1, 2, 3]),
    list: ['a', undefined, 'b'],
    nullable: null,
    nested: { when: new Date(86_400_000), tags: ['x', 'y'] },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<BlueprintError> {
  try {
    await promise;
  } catch (error) {
    return error as BlueprintError;
  }
  throw new Error('expected the call to fail, but it resolved');
}

function issuePaths(error: BlueprintError): unknown[] {
  return ((error.details as { issues?: { path: unknown }[] }).issues ?? []).map((issue) => issue.path);
}

/**
 * Registers the RPC conformance tests (vitest `describe`/`it`) for one transport. `setup` runs once
 * before the tests: it must make the {@link Conformance} contract callable (host `conformanceApp` or
 * `ConformanceService` behind the transport) and return the caller's side.
 *
 * What is asserted, for every transport: results; values that JSON alone loses (`Date`, `bigint`,
 * `Map`, `Set`, `undefined` inside arrays, `null` kept apart from a missing key) decoded through the
 * output schema; output transforms and defaults applied exactly once; `void` methods; propagated headers;
 * the same error class, code, message, details and status for an application error listed in the
 * contract, `NotFoundError`, and `INTERNAL` for anything uncoded; `VALIDATION_FAILED` with issue paths
 * for bad input (the implementation is not called) and bad output; concurrent calls; a caller's
 * `AbortSignal` (`ABORTED`, or the signal's coded reason) and a per-call `timeout` (`TIMEOUT`), both
 * reaching the implementation as an aborted `context.signal`.
 *
 * @example
 * describeRpcConformance('http', async () => {
 *   const server = await createApp(conformanceApp, { topology, process: 'server' });
 *   await server.start();
 *   const caller = await createApp(conformanceApp, { topology, process: 'caller', addresses: { server: server.rpcUrl! } });
 *   await caller.start();
 *   return { client: (c) => caller.client(c), close: async () => { await caller.stop(); await server.stop(); } };
 * });
 */
export function describeRpcConformance(
  name: string,
  setup: () => Promise<RpcConformanceTarget>,
  options: RpcConformanceOptions = {},
): void {
  const byReference = options.byReference ?? false;
  const patience = options.patience ?? 5_000;
  const hidesInternal = options.hidesInternal ?? false;
  const expectInternalMessage = (error: BlueprintError, original: string) => {
    if (!hidesInternal) {
      expect(error.message).toBe(original);
      return;
    }
    expect(error.message).toMatch(/^internal error; see the server's logs, correlation id [\w.:-]+$/);
  };

  describe(`RPC conformance: ${name}`, () => {
    let target: RpcConformanceTarget | undefined;
    let api: ClientOf<typeof Conformance>;
    const stats = (): Promise<Stats> => api.stats();

    beforeAll(async () => {
      target = await setup();
      api = target.client(Conformance);
    });
    afterAll(async () => {
      await target?.close();
    });

    describe('results and values', () => {
      it('returns the result of a call', async () => {
        expect(await api.add({ a: 2, b: 3 })).toEqual({ sum: 5 });
      });

      it('keeps Date, bigint, Map, Set, undefined in arrays, and null apart from a missing key', async () => {
        const sent = sampleValues();
        const got = await api.echo(sent);
        expect(got).toEqual(sampleValues());
        expect(got.at).toBeInstanceOf(Date);
        expect(got.at.toISOString()).toBe('2024-02-29T12:34:56.789Z');
        expect(typeof got.big).toBe('bigint');
        expect(got.big).toBe(2n ** 70n + 1n);
        expect(got.map).toBeInstanceOf(Map);
        expect(got.map.get('second')).toBeInstanceOf(Date);
        expect(got.set).toBeInstanceOf(Set);
        expect([...got.set]).toEqual([1, 2, 3]);
        expect(got.list).toHaveLength(3);
        expect(1 in got.list).toBe(true);
        expect(got.list[1]).toBeUndefined();
        expect(got.nullable).toBeNull();
        expect('optional' in got).toBe(false);
        expect(got.nested.when).toBeInstanceOf(Date);
      });

      it(
        byReference
          ? 'keeps an object key whose value is undefined (values are not encoded)'
          : 'drops an object key whose value is undefined, as JSON does',
        async () => {
          const got = await api.echo({ ...sampleValues(), optional: undefined });
          expect('optional' in got).toBe(byReference);
          expect(got.optional).toBeUndefined();
        },
      );

      it(
        byReference
          ? 'shares a passed Date with the implementation (no copy is made)'
          : 'copies values: the caller and the implementation share no object',
        async () => {
          const at = new Date(1_000);
          await api.remember({ at });
          at.setTime(2_000);
          const recalled = await api.recall();
          expect(recalled.at.getTime()).toBe(byReference ? 2_000 : 1_000);
          recalled.at.setTime(3_000);
          expect((await api.recall()).at.getTime()).toBe(byReference ? 3_000 : 1_000);
        },
      );

      it('calls methods whose input and output are void', async () => {
        const before = await stats();
        expect(await api.reset()).toBeUndefined();
        expect(await api.reset(undefined)).toBeUndefined();
        expect((await stats()).calls).toBe(before.calls + 2);
      });

      it('applies input and output transforms and defaults exactly once', async () => {
        const got = await api.shaped({ n: 2 });
        expect(got).toEqual({ n: 21, label: 'none', at: new Date('2024-01-02T03:04:05.000Z') });
        expect(got.at).toBeInstanceOf(Date);
      });

      it('hands propagated headers to the implementation', async () => {
        expect(await api.headers(undefined, { headers: { 'x-correlation-id': 'corr-1' } })).toEqual({
          correlationId: 'corr-1',
        });
        expect(await api.headers()).toEqual({ correlationId: null });
      });
    });

    describe('errors', () => {
      it('rebuilds an application error listed in the contract: same class, code, message, details', async () => {
        const error = await rejectionOf(api.fail({ kind: 'rejected' }));
        expect(error).toBeInstanceOf(ConformanceRejectedError);
        expect(error).toBeInstanceOf(ServiceError);
        expect(error).toBeInstanceOf(BlueprintError);
        expect(error.code).toBe('CONFORMANCE_REJECTED');
        expect(error.message).toBe('order 42 is closed; open a new one');
        expect(error.details).toEqual({ orderId: 42, tags: ['closed'] });
        expect(error.status).toBe(422);
        expect(error.name).toBe('ConformanceRejectedError');
        expect(isBlueprintError(error)).toBe(true);
      });

      it(
        byReference
          ? 'keeps an unlisted application error as thrown (same class)'
          : 'keeps code, message and details of an application error the contract does not list',
        async () => {
          const error = await rejectionOf(api.fail({ kind: 'unlisted' }));
          expect(error).toBeInstanceOf(ServiceError);
          expect(error instanceof ConformanceUnlistedError).toBe(byReference);
          expect(hasErrorCode(error, 'CONFORMANCE_UNLISTED')).toBe(true);
          expect(error.message).toBe('order 43 was changed meanwhile');
          expect(error.details).toEqual({ orderId: 43 });
          expect(error.status).toBe(409);
        },
      );

      it('rebuilds NotFoundError', async () => {
        const error = await rejectionOf(api.fail({ kind: 'not-found' }));
        expect(error).toBeInstanceOf(NotFoundError);
        expect(error.code).toBe('NOT_FOUND');
        expect(error.message).toBe('no order 7');
        expect(error.details).toEqual({ id: 7 });
        expect(error.status).toBe(404);
      });

      it.each([
        ['a plain Error into INTERNAL with its message', 'plain', 'x'],
        [
          "an error that merely has a string code (Node's ENOENT) into INTERNAL",
          'node-coded',
          'ENOENT: no such file or directory',
        ],
        ['a thrown non-Error into INTERNAL', 'non-error', 'a bare string'],
      ] as const)('turns %s', async (_case, kind, message) => {
        const error = await rejectionOf(api.fail({ kind }));
        expect(error).toBeInstanceOf(InternalError);
        expect(error.code).toBe('INTERNAL');
        expectInternalMessage(error, message);
        expect(error.status).toBe(500);
      });
    });

    describe('validation', () => {
      it('refuses bad input with VALIDATION_FAILED and issue paths, without calling the implementation', async () => {
        const before = await stats();
        const error = await rejectionOf(
          api.typed({ name: '', tags: 'x', nested: { n: 1.5 } } as unknown as Parameters<
            typeof api.typed
          >[0]),
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.status).toBe(400);
        expect(error.details).toMatchObject({ where: 'input', subject: 'conformance.typed' });
        expect(issuePaths(error)).toEqual(expect.arrayContaining([['name'], ['tags'], ['nested', 'n']]));
        expect(issuePaths(error)).toHaveLength(3);
        expect(error.message).toMatch(/^invalid input for conformance\.typed: /);
        expect((await stats()).calls).toBe(before.calls);
      });

      it('refuses a missing input and an input given to a void method', async () => {
        const before = await stats();
        const missing = await rejectionOf(
          (api.typed as (input?: unknown) => Promise<unknown>)(undefined) as Promise<unknown>,
        );
        expect(missing.code).toBe('VALIDATION_FAILED');
        expect(issuePaths(missing)).toEqual([[]]);
        const extra = await rejectionOf(api.reset({ x: 1 } as unknown as undefined));
        expect(extra.code).toBe('VALIDATION_FAILED');
        expect(extra.details).toMatchObject({ where: 'input', subject: 'conformance.reset' });
        expect((await stats()).calls).toBe(before.calls);
      });

      it('refuses output that breaks the output schema with OUTPUT_INVALID (500), a server-side error', async () => {
        const before = await stats();
        const error = await rejectionOf(api.badOutput());
        expect(error.code).toBe('OUTPUT_INVALID');
        expect(error.status).toBe(500);
        expect(error.details).toMatchObject({ where: 'output', subject: 'conformance.badOutput' });
        expect(issuePaths(error)).toEqual([['count']]);
        expect((await stats()).calls).toBe(before.calls + 1);
      });
    });

    describe('concurrency, cancellation and deadlines', () => {
      it('runs concurrent calls and matches each result to its call', async () => {
        const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => api.add({ a: i, b: i })));
        expect(sums.map((s) => s.sum)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
        const base = await api.count();
        const counted = await Promise.all(Array.from({ length: 20 }, () => api.increment()));
        expect([...counted].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => base + i + 1),
        );
        expect(await api.count()).toBe(base + 20);
      });

      it('does not serialize calls: 8 calls that wait for each other all complete', async () => {
        const id = `meet-${Date.now()}-${Math.random()}`;
        const met = await Promise.all(
          Array.from({ length: 8 }, () => api.rendezvous({ id, parties: 8 }, { timeout: 10_000 })),
        );
        expect(met).toEqual(Array.from({ length: 8 }, () => ({ parties: 8 })));
      });

      it('completes a slow call within its timeout', async () => {
        expect(await api.slow({ ms: 20 }, { timeout: 10_000 })).toEqual({ waited: 20 });
      });

      /** Waits until the implementation saw the signal of a call made after `before` abort. */
      const implementationSawAbort = (before: Stats) =>
        waitFor(async () => (await stats()).slowAborted > before.slowAborted, {
          timeout: patience,
          message: 'the implementation to see its signal abort',
        });

      /** A slow call whose signal aborts (with `reason` when given) once the implementation runs it. */
      const abortedSlowCall = async (reason?: unknown) => {
        const before = await stats();
        const controller = new AbortController();
        const pending = rejectionOf(api.slow({ ms: 60_000 }, { signal: controller.signal }));
        await waitFor(async () => (await stats()).slowStarted > before.slowStarted, {
          timeout: patience,
          message: 'the slow call to start',
        });
        controller.abort(reason);
        return { before, error: await pending };
      };

      it("rejects with ABORTED when the caller's signal aborts, and the implementation sees its signal abort", async () => {
        const { before, error } = await abortedSlowCall();
        expect(error).toBeInstanceOf(AbortedError);
        expect(error.code).toBe('ABORTED');
        await implementationSawAbort(before);
      });

      it("rejects with the signal's reason when it is a coded error", async () => {
        const { before, error } = await abortedSlowCall(new TimeoutError('the request budget is spent'));
        expect(error.code).toBe('TIMEOUT');
        expect(error.message).toBe('the request budget is spent');
        await implementationSawAbort(before);
      });

      it('does not call the implementation when the signal is already aborted', async () => {
        const before = await stats();
        const error = await rejectionOf(api.add({ a: 1, b: 1 }, { signal: AbortSignal.abort() }));
        expect(error).toBeInstanceOf(AbortedError);
        expect((await stats()).calls).toBe(before.calls);
      });

      it('rejects with TIMEOUT when a per-call timeout passes, and the implementation sees its signal abort', async () => {
        const before = await stats();
        const error = await rejectionOf(api.slow({ ms: 60_000 }, { timeout: 150 }));
        expect(error).toBeInstanceOf(TimeoutError);
        expect(error.code).toBe('TIMEOUT');
        expect(error.status).toBe(504);
        await implementationSawAbort(before);
      });
    });
  });
}
