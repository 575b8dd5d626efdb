import {
  ConflictError,
  defineError,
  NotFoundError,
  RemoteUnavailableError,
  TimeoutError,
  UnauthenticatedError,
  ValidationError,
} from '@blueprint/core';
import { describe, expect, it } from 'vitest';
import { errorAnswer } from './error-response.js';

/** The code and status of @blueprint/resilience's open-breaker error, as a relayed one arrives. */
const BrokenCircuitError = defineError('CIRCUIT_OPEN', 503);

import { MethodNotAllowedError } from './errors.js';

describe('errorAnswer', () => {
  it('answers a coded error with its status, code, message and details', () => {
    expect(errorAnswer(new ConflictError('order o1 is paid', { details: { id: 'o1' } }))).toEqual({
      status: 409,
      body: { error: { code: 'CONFLICT', message: 'order o1 is paid', details: { id: 'o1' } } },
      headers: {},
    });
    expect(errorAnswer(new NotFoundError('no product p9')).body).toEqual({
      error: { code: 'NOT_FOUND', message: 'no product p9' },
    });
  });

  it('takes statuses by code over the errors’ own', () => {
    const answer = errorAnswer(new ValidationError('bad'), { statuses: { VALIDATION_FAILED: 422 } });
    expect(answer.status).toBe(422);
    expect(errorAnswer(new ValidationError('bad'), { statuses: { VALIDATION_FAILED: 99 } }).status).toBe(500);
  });

  it('answers a 500 and an uncoded error without their message, naming the correlation id', () => {
    expect(errorAnswer(new Error('disk /srv/db is full'), {}, 'c-1')).toEqual({
      status: 500,
      body: {
        error: { code: 'INTERNAL', message: "internal error; see the server's logs, correlation id c-1" },
      },
      headers: {},
    });
    const forced = errorAnswer(new ConflictError('row 7 of /srv/db'), { statuses: { CONFLICT: 500 } });
    expect(JSON.stringify(forced)).not.toContain('/srv/db');
  });

  it.each([
    {
      what: 'a call between services refused for its credential as 502, naming no reason',
      error: new UnauthenticatedError("the credential is not signed with this topology's secret", {
        details: { reason: 'signature' },
      }),
      status: 502,
      code: 'UNAUTHENTICATED',
      message: 'a service this request needs refused the call between services',
    },
    {
      what: 'a dependency that cannot be reached as 503, naming no address',
      error: new RemoteUnavailableError(
        'products.get: http://10.0.3.7:4001 cannot be reached (ECONNREFUSED)',
        { details: { url: 'http://10.0.3.7:4001' } },
      ),
      status: 503,
      code: 'REMOTE_UNAVAILABLE',
      message: 'a service this request needs cannot be reached; retry later',
    },
  ])('answers $what, with a fixed message and no details', ({ error, status, code, message }) => {
    expect(errorAnswer(error)).toEqual({ status, body: { error: { code, message } }, headers: {} });
  });

  it('takes a status by code over the 502 of a refused credential', () => {
    expect(errorAnswer(new UnauthenticatedError('x'), { statuses: { UNAUTHENTICATED: 503 } }).status).toBe(
      503,
    );
  });

  it('answers an open breaker and a timeout with a fixed message and only retryAfterMs of the details', () => {
    const open = errorAnswer(
      new BrokenCircuitError('breaker products@10.0.3.7 is open', {
        details: { breaker: 'products@10.0.3.7', state: 'open', retryAfterMs: 2_500 },
      }),
    );
    expect(open.status).toBe(503);
    expect(open.body.error.details).toEqual({ retryAfterMs: 2_500 });
    expect(open.headers).toEqual({ 'retry-after': '3' });
    expect(JSON.stringify(open)).not.toContain('10.0.3.7');
    expect(
      errorAnswer(new TimeoutError('payments.charge at http://pay:4003 timed out')).body.error.message,
    ).toBe('the request did not finish within its deadline');
  });

  it('lists the allowed methods of a 405 in its allow header', () => {
    const answer = errorAnswer(new MethodNotAllowedError('no', { details: { allow: ['GET', 'POST'] } }));
    expect(answer.headers).toEqual({ allow: 'GET, POST' });
  });
});
