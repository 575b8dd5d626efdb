/**
 * Fault tests of the split shop: a service process dies and comes back; nothing is lost and no request
 * hangs. Each test runs its own Redis (AOF on) and its own four processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerHandle, startRedis, waitFor } from '../../../test/harness/index.js';
import { type SplitShop, startSplit } from './support/shop-under-test.js';

describe('split shop under faults', () => {
  let redis: ServerHandle | undefined;
  let shop: SplitShop | undefined;

  afterEach(async () => {
    await shop?.stop();
    await redis?.stop();
    shop = undefined;
    redis = undefined;
  }, 30_000);

  it('keeps accepting orders while payments is down, and pays every one when it returns', async () => {
    redis = await startRedis({ appendOnly: true });
    shop = await startSplit(redis.url);
    await shop.kill('payments');

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const placed = await shop.request('POST', '/orders', { productId: 'p-cable', quantity: 1 });
      expect(placed.status).toBe(201);
      expect(placed.body.status).toBe('pending');
      ids.push(placed.body.id);
    }
    for (const id of ids) expect((await shop.request('GET', `/orders/${id}`)).body.status).toBe('pending');

    await shop.restart('payments');
    await waitFor(
      async () => {
        const statuses = await Promise.all(
          ids.map(async (id) => (await shop!.request('GET', `/orders/${id}`)).body.status),
        );
        return statuses.every((s) => s === 'paid');
      },
      { timeout: 30_000, interval: 200, message: 'every order placed while payments was down to be paid' },
    );
  }, 120_000);

  it('answers 503 quickly while products is down, still serves orders, and recovers', async () => {
    redis = await startRedis({ appendOnly: true });
    shop = await startSplit(redis.url);
    const before = await shop.request('POST', '/orders', { productId: 'p-mouse', quantity: 1 });
    expect(before.status).toBe(201);

    await shop.kill('products');
    const latencies: number[] = [];
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      const refused = await shop.request('POST', '/orders', { productId: 'p-mouse', quantity: 1 });
      latencies.push(performance.now() - started);
      expect(refused.status).toBe(503);
      expect(['REMOTE_UNAVAILABLE', 'CIRCUIT_OPEN', 'RETRY_EXHAUSTED', 'TIMEOUT']).toContain(
        refused.body.error.code,
      );
    }
    console.log(
      `503 latencies while products is down (ms): ${latencies.map((l) => l.toFixed(1)).join(', ')}`,
    );
    expect(Math.max(...latencies)).toBeLessThan(6_000);
    expect(latencies.at(-1)!).toBeLessThan(500);

    const read = await shop.request('GET', `/orders/${before.body.id}`);
    expect(read.status).toBe(200);

    await shop.restart('products');
    await waitFor(
      async () =>
        (await shop!.request('POST', '/orders', { productId: 'p-mouse', quantity: 1 })).status === 201,
      {
        timeout: 30_000,
        interval: 250,
        message: 'orders to be accepted again once products is back',
      },
    );
  }, 120_000);

  it('stops every process cleanly on SIGTERM with exit code 0', async () => {
    redis = await startRedis();
    shop = await startSplit(redis.url);
    expect((await shop.request('POST', '/orders', { productId: 'p-cable', quantity: 1 })).status).toBe(201);
    for (const name of ['gateway', 'orders', 'payments', 'products'] as const) {
      const code = await shop.terminate(name);
      expect(code, `${name} exit code; output:\n${shop.output(name)}`).toBe(0);
    }
  }, 120_000);
});
