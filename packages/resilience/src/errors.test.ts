import { readFileSync } from 'node:fs';
import {
  AbortedError,
  type BlueprintError,
  InternalError,
  markRelayed,
  NotFoundError,
  RemoteUnavailableError,
  reviveError,
  ServiceError,
  TimeoutError,
  ValidationError,
} from '@blueprint/core';
import { describe, expect, it } from 'vitest';
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
  ResilienceOptionsError,
  RetryExhaustedError,
  shouldFallback,
} from './index.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

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
    for (const cls of classes) {
      const error = new cls('x');
      expect(error.code).toBe(cls.code);
      expect(RESILIENCE_ERROR_CODES[cls.code as keyof typeof RESILIENCE_ERROR_CODES]).toBe(cls.status);
      expect(README).toMatch(new RegExp(`\\|\\s*\`${cls.code}\`\\s*\\|`));
    }
  });

  it('guards check the code, so errors rebuilt from the wire are recognised', () => {
    const wire = reviveError({ code: 'CIRCUIT_OPEN', message: 'open' }, [], 503);
    expect(wire).toBeInstanceOf(ServiceError);
    expect(isBrokenCircuitError(wire)).toBe(true);
    expect(isBrokenCircuitError(new BrokenCircuitError('open'))).toBe(true);
    expect(isBulkheadRejectedError(new BulkheadRejectedError('full'))).toBe(true);
    expect(isRetryExhaustedError(new RetryExhaustedError('done'))).toBe(true);
    expect(isResilienceOptionsError(new ResilienceOptionsError('bad'))).toBe(true);
    expect(isTimeoutError(new TimeoutError('slow'))).toBe(true);
    expect(isBrokenCircuitError({ code: 'CIRCUIT_OPEN' })).toBe(false);
    expect(isBrokenCircuitError(new BulkheadRejectedError('full'))).toBe(false);
  });

  it('the error classes can be listed in a contract to be rebuilt as themselves', () => {
    const revived = reviveError({ code: 'CIRCUIT_OPEN', message: 'open', details: { breaker: 'p' } }, [
      BrokenCircuitError,
    ]);
    expect(revived).toBeInstanceOf(BrokenCircuitError);
    expect(revived.details).toEqual({ breaker: 'p' });
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

  it('errors relayed in the answer of a dependency are neither retried nor failures of it', () => {
    const relayed = <E extends BlueprintError>(error: E) => markRelayed(error, { service: 'orders' });
    const downstream = relayed(new RemoteUnavailableError('products cannot be reached'));
    expect(isTransientError(downstream)).toBe(false);
    expect(isDependencyFailure(downstream)).toBe(false);
    expect(isDependencyFailure(relayed(new TimeoutError('products timed out')))).toBe(false);
    expect(isDependencyFailure(relayed(new BrokenCircuitError('products breaker open')))).toBe(false);
    expect(isDependencyFailure(relayed(new InternalError('orders has a bug')))).toBe(true);
    expect(shouldFallback(downstream)).toBe(true);
    expect(shouldFallback(relayed(new NotFoundError('no such order')))).toBe(false);
    expect(shouldFallback(new AbortedError('caller left'))).toBe(false);
  });
});
