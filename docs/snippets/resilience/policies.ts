import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { hasErrorCode } from '@blueprint/core';
import { bulkhead, circuitBreaker, fallback, retry, retryBudget, timeout, wrap } from '@blueprint/resilience';

const warnings: unknown[] = [];
const log = { warn: (fields: object, message: string) => warnings.push({ ...fields, message }) };
const failing = () => Promise.reject(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));

// #region breaker
const breaker = circuitBreaker({ name: 'payments', consecutiveFailures: 5, halfOpenAfter: '5s' });
breaker.onStateChange(({ from, to, error }) => log.warn({ from, to, error }, 'payments breaker'));
// #endregion breaker
for (let i = 0; i < 5; i++) await breaker.execute(failing).catch(() => undefined);
assert.equal(breaker.state, 'open');
assert.deepEqual(
  warnings.map((w) => ({ ...(w as object), error: undefined })),
  [{ from: 'closed', to: 'open', error: undefined, message: 'payments breaker' }],
);
await assert.rejects(
  breaker.execute(() => 'not run'),
  (error) => hasErrorCode(error, 'CIRCUIT_OPEN'),
);
breaker.dispose();

// #region retry
const policy = retry({ maxAttempts: 3, backoff: { initial: '100ms', max: '2s' } });
// #endregion retry
let attempts = 0;
const value = await policy.execute(() => (++attempts < 3 ? failing() : 'third time'));
assert.equal(value, 'third time');
assert.equal(attempts, 3);

// #region budget
const budget = retryBudget({ ratio: 0.2 });
const get = retry({ budget }),
  list = retry({ budget });
// #endregion budget
await get.execute(() => 'a');
await list.execute(() => 'b');
assert.equal(budget.stats().calls, 2);

// A prices server that never answers: the timeout ends the call and aborts the fetch.
const silent = createServer(() => undefined);
await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}/prices/p1`;
await assert.rejects(
  async () => {
    // #region timeout
    const data = await timeout('500ms', { name: 'prices.get' }).execute(({ signal }) =>
      fetch(url, { signal: signal ?? null }),
    );
    // #endregion timeout
    return data;
  },
  (error) => hasErrorCode(error, 'TIMEOUT'),
);
silent.closeAllConnections();
silent.close();

// #region bulkhead
const limit = bulkhead({ name: 'reports', maxConcurrent: 4, maxQueue: 16, maxWait: '1s' });
// #endregion bulkhead
let release = (): void => undefined;
const gate = new Promise<void>((resolve) => {
  release = resolve;
});
const running = Array.from({ length: 20 }, () => limit.execute(() => gate));
assert.equal(limit.active, 4);
assert.equal(limit.queued, 16);
await assert.rejects(
  limit.execute(() => undefined),
  (error) => hasErrorCode(error, 'BULKHEAD_REJECTED'),
);
release();
await Promise.all(running);

// #region fallback
const recommendations = wrap(
  fallback(() => []),
  circuitBreaker({ name: 'recs' }),
  timeout('300ms'),
);
// #endregion fallback
assert.deepEqual(await recommendations.execute(failing), []);
recommendations.dispose();
