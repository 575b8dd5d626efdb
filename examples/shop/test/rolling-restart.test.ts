/**
 * A rolling restart of every replica of products while 64 requests are in flight through the gateway:
 * each replica in turn gets SIGTERM, drains, exits 0 and starts again; no request fails. Over http RPC
 * and over tcp RPC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerHandle, startRedis } from '../../../test/harness/index.js';
import { SPLIT_REPLICAS, type SplitOptions, type SplitShop, startSplit } from './support/shop-under-test.js';
import { startSplitOverTcp } from './support/tcp-topology.js';

const transports: [string, (redisUrl: string, options: SplitOptions) => Promise<SplitShop>][] = [
  ['http', startSplit],
  ['tcp', startSplitOverTcp],
];

describe.each(transports)('a rolling restart of products (%s RPC)', (_transport, start) => {
  let redis: ServerHandle | undefined;
  let shop: SplitShop | undefined;

  afterEach(async () => {
    await shop?.stop();
    await redis?.stop();
  }, 30_000);

  it('fails no request of 64 in flight while each replica restarts in turn', async () => {
    redis = await startRedis();
    shop = await start(redis.url, { env: { DRAIN_DELAY: '300ms' } });
    const split = shop;
    const failures: string[] = [];
    const latencies: number[] = [];
    let rolling = true;
    let n = 0;
    let orders = 0;
    const client = async () => {
      while (rolling) {
        const i = n++;
        // Every fourth request places an order until half of p-cable's stock of 1000 is sold, so a
        // fast transport never meets OUT_OF_STOCK; reads carry on for the rest of the restart.
        const order = i % 4 === 0 && orders < 500;
        if (order) orders++;
        const started = performance.now();
        const response = order
          ? await split.request('POST', '/orders', { productId: 'p-cable', quantity: 1 })
          : await split.request('GET', '/products/p-keyboard');
        latencies.push(performance.now() - started);
        const expected = order ? 201 : 200;
        if (response.status !== expected)
          failures.push(`${i}: ${response.status} ${JSON.stringify(response.body)}`);
      }
    };
    const clients = Array.from({ length: 64 }, client);
    const codes: (number | null)[] = [];
    for (let replica = 0; replica < SPLIT_REPLICAS.products; replica++) {
      codes.push(await split.restartReplica('products', replica));
    }
    rolling = false;
    await Promise.all(clients);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    process.stdout.write(
      `rolling restart: ${latencies.length} requests, p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms\n`,
    );
    expect(codes).toEqual([0, 0]);
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(200);
  }, 120_000);
});
