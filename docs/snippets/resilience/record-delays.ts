import { hasErrorCode } from '@blueprint/core';
import { retry } from '@blueprint/resilience';
import { recordDelays } from '@blueprint/resilience/testing';
import { expect } from 'vitest';

const flaky = () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
expect(
  hasErrorCode(
    await retry({ budget: false, delay: recordDelays().delay })
      .execute(flaky)
      .catch((e) => e),
    'RETRY_EXHAUSTED',
  ),
).toBe(true);

// #region test
const { delay, delays } = recordDelays();
await retry({ delay, random: () => 1, budget: false })
  .execute(flaky)
  .catch(() => {});
expect(delays).toEqual([100, 200]);
// #endregion test
