/**
 * The shop's scenario suite: the same assertions against the monolith (one process, memory events
 * and cache), the split topology (four processes, http RPC, Redis Streams, tiered cache) and the split
 * topology with events on Kafka (`topology/split-kafka.json`, a private broker), and the split topology
 * over the tcp RPC transport (`support/tcp-topology.ts`).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../../test/harness/index.js';
import {
  type ShopUnderTest,
  startMonolith,
  startSplit,
  startSplitOnKafka,
} from './support/shop-under-test.js';
import { startSplitOverTcp } from './support/tcp-topology.js';

const topologies: [string, () => Promise<ShopUnderTest>][] = [
  ['monolith', () => startMonolith()],
  ['split', () => startSplit(inject('redisUrl'))],
  ['split-kafka', () => startSplitOnKafka(inject('redisUrl'))],
  ['split over tcp RPC', () => startSplitOverTcp(inject('redisUrl'))],
];

describe.each(topologies)('shop scenario (%s)', (_name, start) => {
  let shop: ShopUnderTest;

  beforeAll(async () => {
    shop = await start();
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
  }, 30_000);

  const stockOf = async (id: string): Promise<number> =>
    (await shop.request('GET', `/products/${id}`)).body.stock;
  const orderStatus = async (id: string): Promise<string> =>
    (await shop.request('GET', `/orders/${id}`)).body.status;

  it('lists the seeded catalog', async () => {
    const response = await shop.request('GET', '/products');
    expect(response.status).toBe(200);
    expect(response.body.length).toBeGreaterThanOrEqual(5);
    for (const product of response.body) {
      expect(Object.keys(product).sort()).toEqual(['id', 'name', 'priceCents', 'stock']);
      expect(product.stock).toBeGreaterThanOrEqual(100);
    }
    expect(response.body.some((p: { priceCents: number }) => p.priceCents > 10_000)).toBe(true);
  });

  it('reads one product, and answers 404 NOT_FOUND for an unknown one', async () => {
    const found = await shop.request('GET', '/products/p-mouse');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: 'p-mouse', name: 'Wireless mouse', priceCents: 2_900 });
    const missing = await shop.request('GET', '/products/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('places an order that reaches paid, and the cached product shows the reservation', async () => {
    const before = await stockOf('p-keyboard');
    const placed = await shop.request('POST', '/orders', { productId: 'p-keyboard', quantity: 3 });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ productId: 'p-keyboard', quantity: 3, totalCents: 3 * 8_900 });
    expect(['pending', 'paid']).toContain(placed.body.status);
    expect(await stockOf('p-keyboard')).toBe(before - 3);
    await waitFor(async () => (await orderStatus(placed.body.id)) === 'paid', {
      timeout: 15_000,
      message: 'the order to be paid',
    });
    const second = await shop.request('POST', '/orders', { productId: 'p-keyboard', quantity: 2 });
    expect(second.status).toBe(201);
    expect(await stockOf('p-keyboard')).toBe(before - 5);
  });

  it('declines an order over the payment limit and puts the stock back', async () => {
    const before = await stockOf('p-server');
    const placed = await shop.request('POST', '/orders', { productId: 'p-server', quantity: 1 });
    expect(placed.status).toBe(201);
    expect(placed.body.totalCents).toBeGreaterThan(1_000_000);
    await waitFor(async () => (await orderStatus(placed.body.id)) === 'payment_failed', {
      timeout: 15_000,
      message: 'the order to be declined',
    });
    await waitFor(async () => (await stockOf('p-server')) === before, {
      timeout: 10_000,
      message: 'the stock to come back',
    });
  });

  it('answers 409 OUT_OF_STOCK when stock is short, and changes nothing', async () => {
    const initial = await stockOf('p-mouse');
    let refused: Awaited<ReturnType<ShopUnderTest['request']>> | undefined;
    for (let i = 0; i <= Math.ceil(initial / 100) && refused === undefined; i++) {
      const response = await shop.request('POST', '/orders', { productId: 'p-mouse', quantity: 100 });
      if (response.status === 409) refused = response;
      else expect(response.status).toBe(201);
    }
    expect(refused?.body.error).toMatchObject({ code: 'OUT_OF_STOCK' });
    const available = refused!.body.error.details.available;
    expect(available).toBeLessThan(100);
    expect(refused!.body.error.details).toMatchObject({ productId: 'p-mouse', requested: 100 });
    expect(await stockOf('p-mouse')).toBe(available);
    expect(available).toBe(initial % 100);
  });

  it('answers 404 for an unknown order and for an order of an unknown product', async () => {
    expect((await shop.request('GET', '/orders/does-not-exist')).body.error.code).toBe('NOT_FOUND');
    const unknown = await shop.request('POST', '/orders', { productId: 'nope', quantity: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it.each([
    [{ productId: 'p-mouse', quantity: 0 }, ['quantity']],
    [{ productId: 'p-mouse', quantity: 101 }, ['quantity']],
    [{ productId: 'p-mouse', quantity: 1.5 }, ['quantity']],
    [{ productId: 'p-mouse', quantity: '2' }, ['quantity']],
    [{ quantity: 1 }, ['productId']],
    [{ productId: 'p-mouse', quantity: 1, admin: true }, []],
    [[], []],
  ])('answers 400 VALIDATION_FAILED for %j and changes nothing', async (body, paths) => {
    const before = await stockOf('p-mouse');
    const response = await shop.request('POST', '/orders', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    const issuePaths = response.body.error.details.issues.map((i: { path: string[] }) => i.path.join('.'));
    for (const p of paths) expect(issuePaths).toContain(p);
    expect(await stockOf('p-mouse')).toBe(before);
  });

  it('refuses malformed JSON, other content types, big bodies and polluting keys, and changes nothing', async () => {
    const before = await stockOf('p-mouse');
    const malformed = await shop.request('POST', '/orders', '{"productId": "p-mouse", "quantity": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');

    const text = await shop.request('POST', '/orders', 'productId=p-mouse', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const big = await shop.request('POST', '/orders', {
      productId: 'p-mouse',
      quantity: 1,
      pad: 'x'.repeat(70 * 1024),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');

    const proto = await shop.request(
      'POST',
      '/orders',
      '{"productId":"p-mouse","quantity":1,"__proto__":{"polluted":true}}',
    );
    expect(proto.status).toBe(400);
    const ctor = await shop.request(
      'POST',
      '/orders',
      '{"productId":"p-mouse","quantity":1,"constructor":{"prototype":{"polluted":true}}}',
    );
    expect(ctor.status).toBe(400);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(await stockOf('p-mouse')).toBe(before);
  });

  it('reports live and ready', async () => {
    expect((await shop.request('GET', '/health/live')).status).toBe(200);
    const ready = await shop.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
  });
});
