/**
 * The orders outbox under faults, in the split shop (real processes, real Redis): orders placed while the
 * broker is down are all accepted and all paid once it is back; an orders process killed with SIGKILL
 * while it places orders loses none of the orders it accepted, and no event of an order it did not store
 * reaches payments.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerHandle, startRedis, waitFor } from '../../../test/harness/index.js';
import { type SplitShop, startSplit } from './support/shop-under-test.js';

const PRODUCTS = ['p-cable', 'p-mouse'];

/** Reads one service's SQLite file while its process runs (or after it died). */
function query<T>(shop: SplitShop, service: string, sql: string): T[] {
  const db = new Database(path.join(shop.dataDir, `${service}.db`), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Places `count` orders, `parallel` at a time; resolves each answer's status and order id. */
async function placeOrders(
  shop: SplitShop,
  count: number,
  parallel: number,
  onAccepted?: (n: number) => void,
) {
  const answers: { status: number; id?: string }[] = [];
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const answer = await shop
        .request('POST', '/orders', { productId: PRODUCTS[n % PRODUCTS.length], quantity: 1 })
        .catch(() => ({ status: 0, body: undefined }));
      answers.push({ status: answer.status, id: answer.body?.id });
      if (answer.status === 201) onAccepted?.(++accepted);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return answers;
}

const settled = async (shop: SplitShop, ids: readonly string[]) => {
  const statuses = await Promise.all(
    ids.map(async (id) => (await shop.request('GET', `/orders/${id}`)).body?.status as string),
  );
  return statuses.every((status) => status === 'paid');
};

describe('split shop: the orders outbox under faults', () => {
  let redis: ServerHandle | undefined;
  let shop: SplitShop | undefined;

  afterEach(async () => {
    await shop?.stop();
    await redis?.stop();
    shop = undefined;
    redis = undefined;
  }, 60_000);

  it('accepts 200 orders while the broker is down and pays each once when it is back; a SIGKILLed orders process loses none and announces none it did not store', async () => {
    redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
    shop = await startSplit(redis.url);

    await redis.kill();
    const down = await placeOrders(shop, 200, 4);
    expect(down.map((a) => a.status)).toEqual(Array(200).fill(201));
    const ids = down.map((a) => a.id!);
    expect(new Set(ids).size).toBe(200);
    const [{ pending }] = query<{ pending: number }>(
      shop,
      'orders',
      'SELECT COUNT(*) AS pending FROM blueprint_outbox',
    ) as [{ pending: number }];
    expect(pending).toBeGreaterThan(0);

    await redis.restart();
    await waitFor(() => settled(shop!, ids), {
      timeout: 60_000,
      interval: 500,
      message: 'every order placed while the broker was down to be paid',
    });
    const payments = query<{ order_id: string; n: number }>(
      shop,
      'payments',
      'SELECT order_id, COUNT(*) AS n FROM payments GROUP BY order_id',
    );
    expect(payments.map((p) => p.order_id).sort()).toEqual([...ids].sort());
    expect(payments.every((p) => p.n === 1)).toBe(true);
    await waitFor(() => query(shop!, 'orders', 'SELECT seq FROM blueprint_outbox').length === 0, {
      timeout: 10_000,
      message: 'the outbox to empty',
    });

    // The orders process dies (SIGKILL) while it places orders, with the broker down again.
    await redis.kill();
    const killed = placeOrders(shop, 120, 4, (accepted) => {
      if (accepted === 40) void shop!.kill('orders');
    });
    const answers = await killed;
    const accepted = answers.filter((a) => a.status === 201).map((a) => a.id!);
    expect(accepted.length).toBeGreaterThanOrEqual(40);
    expect(answers.some((a) => a.status !== 201)).toBe(true);
    await redis.restart();
    await shop.restart('orders');

    const stored = new Set(query<{ id: string }>(shop, 'orders', 'SELECT id FROM orders').map((r) => r.id));
    for (const id of accepted) expect(stored.has(id), `accepted order ${id} is stored`).toBe(true);
    await waitFor(() => settled(shop!, accepted), {
      timeout: 60_000,
      interval: 500,
      message: 'every order accepted before the kill to be paid',
    });
    await waitFor(() => query(shop!, 'orders', 'SELECT seq FROM blueprint_outbox').length === 0, {
      timeout: 20_000,
      message: 'the outbox to empty after the restart',
    });
    const charged = query<{ order_id: string; n: number }>(
      shop,
      'payments',
      'SELECT order_id, COUNT(*) AS n FROM payments GROUP BY order_id',
    );
    // Every announced order is a stored one (nothing published that was rolled back), each charged once,
    // and every stored order was announced (nothing lost).
    expect(charged.every((p) => stored.has(p.order_id) && p.n === 1)).toBe(true);
    expect(charged.map((p) => p.order_id).sort()).toEqual([...stored].sort());
  }, 300_000);
});
