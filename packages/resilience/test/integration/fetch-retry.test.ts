/**
 * The README's headline example, against a real closed port: `fetch` throws `TypeError('fetch failed')`
 * whose cause is the refused connection, and the default retry predicate sees it through the cause.
 */
import { describe, expect, it } from 'vitest';
import { getFreePort } from '../../../../test/harness/index.js';
import {
  circuitBreaker,
  isRetryExhaustedError,
  isTransientError,
  retry,
  timeout,
  wrap,
} from '../../src/index.js';

describe('retry around fetch', () => {
  it('retries a refused connection, seen through the error the fetch API throws', async () => {
    const port = await getFreePort();
    let attempts = 0;
    const policy = wrap(
      retry({ maxAttempts: 3, backoff: { initial: 1, jitter: 'none' }, budget: false }),
      circuitBreaker({ name: 'prices', consecutiveFailures: 10 }),
      timeout('2s'),
    );
    const failure = await policy
      .execute(({ signal }) => {
        attempts++;
        return fetch(`http://127.0.0.1:${port}/p1`, { signal: signal ?? null }).then((r) => r.json());
      })
      .catch((error: unknown) => error);
    expect(attempts).toBe(3);
    expect(isRetryExhaustedError(failure)).toBe(true);
    const last = (failure as { causes: unknown[] }).causes.at(-1) as TypeError & { cause: { code: string } };
    expect(last).toBeInstanceOf(TypeError);
    expect(last.cause.code).toBe('ECONNREFUSED');
    expect(isTransientError(last)).toBe(true);
    policy.dispose?.();
  });

  it('does not retry an uncoded error whose cause is not a socket error', () => {
    expect(isTransientError(new TypeError('bad', { cause: new Error('nope') }))).toBe(false);
    expect(isTransientError(new Error('x', { cause: { code: 'ENOENT' } }))).toBe(false);
  });
});
