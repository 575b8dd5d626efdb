import { readFileSync } from 'node:fs';
import {
  AbortedError,
  type CodedErrorClass,
  createApp,
  defineApp,
  defineService,
  InternalError,
  NotFoundError,
  RemoteUnavailableError,
  relayedFrom,
  ServiceError,
  service,
  TimeoutError,
  ValidationError,
} from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isDependencyFailure,
  isResilienceOptionsError,
  isRetryExhaustedError,
  isTimeoutError,
  isTransientError,
  RESILIENCE_ERROR_CODES,
  RESILIENCE_ERRORS,
  ResilienceOptionsError,
  RetryExhaustedError,
  shouldFallback,
} from './index.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/**
 * What a caller receives when a service throws `error`: the error crosses the wire (a local call with
 * `rpc.serialize`, which round-trips it through the codec as a remote call does) and comes back rebuilt
 * from its code and marked as relayed by the service.
 */
async function acrossTheWire(error: unknown, errors: readonly CodedErrorClass[] = []): Promise<unknown> {
  const Thrower = defineService('thrower', { fail: { input: z.void(), output: z.void() } }, { errors });
  class ThrowerService {
    async fail(): Promise<void> {
      throw error;
    }
  }
  const app = await createApp(defineApp({ name: 'wire', services: [service(Thrower, ThrowerService)] }), {
    topology: {
      app: 'x',
      rpc: { type: 'local', serialize: true },
      processes: { main: { services: ['thrower'] } },
    },
  });
  await app.start();
  try {
    return await app
      .client(Thrower)
      .fail()
      .then(
        () => undefined,
        (received: unknown) => received,
      );
  } finally {
    await app.stop();
  }
}

describe('errors', () => {
  const classes = [
    BrokenCircuitError,
    BulkheadRejectedError,
    RetryExhaustedError,
    ResilienceOptionsError,
    TimeoutError,
  ];

  it('every class has its code and status in RESILIENCE_ERROR_CODES, and every code is documented', () => {
    expect(Object.keys(RESILIENCE_ERROR_CODES).sort()).toEqual(classes.map((c) => c.code).sort());
    expect([...RESILIENCE_ERRORS].sort((a, b) => a.code.localeCompare(b.code))).toEqual(
      [...classes].sort((a, b) => a.code.localeCompare(b.code)),
    );
    for (const cls of classes) {
      const error = new cls('x');
      expect(error.code).toBe(cls.code);
      expect(error.name).toBe(cls.name);
      expect(error.status).toBe(cls.status);
      expect(RESILIENCE_ERROR_CODES[cls.code as keyof typeof RESILIENCE_ERROR_CODES]).toBe(cls.status);
      expect(README).toMatch(new RegExp(`\\|\\s*\`${cls.code}\`\\s*\\|`));
    }
  });

  it('guards check the code, so errors rebuilt from the wire are recognised', async () => {
    const wire = await acrossTheWire(new BrokenCircuitError('open'));
    expect(wire).toBeInstanceOf(ServiceError);
    expect(wire).not.toBeInstanceOf(BrokenCircuitError);
    expect(wire).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, message: 'open' });
    expect(isBrokenCircuitError(wire)).toBe(true);
    expect(isBrokenCircuitError(new BrokenCircuitError('open'))).toBe(true);
    expect(isBulkheadRejectedError(new BulkheadRejectedError('full'))).toBe(true);
    expect(isRetryExhaustedError(new RetryExhaustedError('done'))).toBe(true);
    expect(isResilienceOptionsError(new ResilienceOptionsError('bad'))).toBe(true);
    expect(isTimeoutError(new TimeoutError('slow'))).toBe(true);
    expect(isBrokenCircuitError({ code: 'CIRCUIT_OPEN' })).toBe(false);
    expect(isBrokenCircuitError(new BulkheadRejectedError('full'))).toBe(false);
  });

  it('the error classes can be listed in a contract to be rebuilt as themselves', async () => {
    const revived = await acrossTheWire(new BrokenCircuitError('open', { details: { breaker: 'p' } }), [
      BrokenCircuitError,
    ]);
    expect(revived).toBeInstanceOf(BrokenCircuitError);
    expect((revived as BrokenCircuitError).details).toEqual({ breaker: 'p' });
    const all = await acrossTheWire(new BulkheadRejectedError('full'), RESILIENCE_ERRORS);
    expect(all).toBeInstanceOf(BulkheadRejectedError);
  });

  it('RetryExhaustedError keeps every cause and takes a 5xx status from the last one', () => {
    const causes = [new RemoteUnavailableError('a'), new TimeoutError('b')];
    const error = new RetryExhaustedError('gave up', { causes });
    expect(error.causes).toEqual(causes);
    expect(error.cause).toBe(causes[1]);
    expect(error.status).toBe(504);
    expect(new RetryExhaustedError('gave up', { causes: [new Error('plain')] }).status).toBe(503);
  });

  it('isTransientError retries transport failures and timeouts only', () => {
    const system = (code: string) => Object.assign(new Error(code), { code });
    expect(isTransientError(new RemoteUnavailableError('x'))).toBe(true);
    expect(isTransientError(new TimeoutError('x'))).toBe(true);
    expect(isTransientError(system('ECONNRESET'))).toBe(true);
    expect(isTransientError(system('UND_ERR_SOCKET'))).toBe(true);
    for (const error of [
      new ValidationError('x'),
      new NotFoundError('x'),
      new InternalError('x'),
      new AbortedError('x'),
      new BrokenCircuitError('x'),
      new BulkheadRejectedError('x'),
      new RetryExhaustedError('x'),
      new Error('plain'),
      system('ENOENT'),
      'a string',
      undefined,
    ]) {
      expect(isTransientError(error)).toBe(false);
    }
  });

  it('isDependencyFailure counts failures, not answers', () => {
    expect(isDependencyFailure(new RemoteUnavailableError('x'))).toBe(true);
    expect(isDependencyFailure(new BrokenCircuitError('x'))).toBe(true);
    expect(isDependencyFailure(new InternalError('x'))).toBe(true);
    expect(isDependencyFailure(new Error('plain'))).toBe(true);
    expect(isDependencyFailure(new NotFoundError('x'))).toBe(false);
    expect(isDependencyFailure(new ValidationError('x'))).toBe(false);
    expect(isDependencyFailure(new AbortedError('x'))).toBe(false);
  });

  it('errors relayed in the answer of a dependency are neither retried nor failures of it', async () => {
    const downstream = await acrossTheWire(new RemoteUnavailableError('products cannot be reached'));
    expect(relayedFrom(downstream)).toMatchObject({ service: 'thrower' });
    expect(downstream).toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    expect(isTransientError(downstream)).toBe(false);
    expect(isDependencyFailure(downstream)).toBe(false);
    expect(isDependencyFailure(await acrossTheWire(new TimeoutError('products timed out')))).toBe(false);
    expect(isDependencyFailure(await acrossTheWire(new BrokenCircuitError('products breaker open')))).toBe(
      false,
    );
    expect(isDependencyFailure(await acrossTheWire(new InternalError('orders has a bug')))).toBe(true);
    expect(shouldFallback(downstream)).toBe(true);
    expect(shouldFallback(await acrossTheWire(new NotFoundError('no such order')))).toBe(false);
    expect(shouldFallback(new AbortedError('caller left'))).toBe(false);
  });
});
