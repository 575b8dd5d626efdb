/**
 * The migration, checked: one scenario runs against the Express app as it was, against the migrated app
 * with products in the same process, and against the migrated app with products in their own process
 * over HTTP. Same requests, same answers.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '@blueprint/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../src/app.js';
import { openDatabase, SEED_PRODUCTS } from '../src/database.js';
import { createLegacyApp } from '../src/legacy/app.js';
import { startServer } from '../src/server.js';

const topology = (name: string) =>
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'topology', `${name}.json`);

/** A running shop under test. */
interface Shop {
  readonly url: string;
  close(): Promise<void>;
}

const env = { SERVICE_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent' };

const shops: Record<string, () => Promise<Shop>> = {
  async 'before the migration (Express and SQL)'() {
    const db = openDatabase();
    const listening = createLegacyApp(db).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', resolve));
    const { port } = listening.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          listening.closeAllConnections();
          listening.close(() => resolve());
        }),
    };
  },
  async 'migrated, products in the Express process'() {
    return startServer({ topology: topology('monolith'), port: 0, env });
  },
  async 'migrated, products in their own process'() {
    const products = await createApp(app, {
      topology: topology('split'),
      process: 'products',
      listen: { host: '127.0.0.1', port: 0 },
      env,
    });
    await products.start();
    const web = await startServer({
      topology: topology('split'),
      process: 'web',
      addresses: { products: products.rpcUrl! },
      port: 0,
      env,
    });
    return {
      url: web.url,
      async close() {
        await web.close();
        await products.stop();
      },
    };
  },
};

async function call(url: string, method: string, init: { body?: unknown; raw?: string } = {}) {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe.each(Object.keys(shops))('the shop %s', (name) => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await shops[name]!();
  });
  afterAll(async () => {
    await shop?.close();
  });

  it('lists the products, with a limit', async () => {
    expect(await call(`${shop.url}/products`, 'GET')).toEqual({ status: 200, body: SEED_PRODUCTS });
    const two = await call(`${shop.url}/products?limit=2`, 'GET');
    expect(two.body.map((p: { id: string }) => p.id)).toEqual(['p1', 'p2']);
  });

  it('answers one product, and 404 NOT_FOUND for an unknown one', async () => {
    expect(await call(`${shop.url}/products/p2`, 'GET')).toEqual({ status: 200, body: SEED_PRODUCTS[1] });
    const missing = await call(`${shop.url}/products/p9`, 'GET');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'product p9 does not exist' });
  });

  it('places an order: the total from the price, the stock taken', async () => {
    const placed = await call(`${shop.url}/orders`, 'POST', { body: { productId: 'p1', quantity: 2 } });
    expect(placed).toEqual({ status: 201, body: { id: 1, productId: 'p1', quantity: 2, total: 9998 } });
    expect((await call(`${shop.url}/products/p1`, 'GET')).body.stock).toBe(3);
  });

  it('refuses an order over the stock with 409 OUT_OF_STOCK, and changes nothing', async () => {
    const refused = await call(`${shop.url}/orders`, 'POST', { body: { productId: 'p1', quantity: 4 } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'OUT_OF_STOCK', message: 'product p1 has 3 left' });
    expect((await call(`${shop.url}/products/p1`, 'GET')).body.stock).toBe(3);
    const unknown = await call(`${shop.url}/orders`, 'POST', { body: { productId: 'p9', quantity: 1 } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it.each([
    ['GET', '/products?limit=abc', undefined, 400, 'VALIDATION_FAILED'],
    ['GET', '/products?limit=1000', undefined, 400, 'VALIDATION_FAILED'],
    ['GET', `/products/${'x'.repeat(65)}`, undefined, 400, 'VALIDATION_FAILED'],
    ['POST', '/orders', { body: { productId: 'p1', quantity: 0 } }, 400, 'VALIDATION_FAILED'],
    ['POST', '/orders', { body: { productId: 'p1', quantity: '2' } }, 400, 'VALIDATION_FAILED'],
    ['POST', '/orders', { body: { quantity: 1 } }, 400, 'VALIDATION_FAILED'],
    ['POST', '/orders', { raw: '{"productId": ' }, 400, 'MALFORMED_JSON'],
    ['GET', '/nowhere', undefined, 404, 'NOT_FOUND'],
  ] as const)('answers %s %s with %i %s', async (method, url, init, status, code) => {
    const answer = await call(`${shop.url}${url}`, method, init);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
  });
});

describe('the migrated shop', () => {
  it('serves the product routes from another process: when it stops, they answer 503, and so do orders', async () => {
    const products = await createApp(app, {
      topology: topology('split'),
      process: 'products',
      listen: { host: '127.0.0.1', port: 0 },
      env,
    });
    await products.start();
    const web = await startServer({
      topology: topology('split'),
      process: 'web',
      addresses: { products: products.rpcUrl! },
      port: 0,
      env,
    });
    try {
      expect((await call(`${web.url}/products/p1`, 'GET')).status).toBe(200);
      await products.stop();
      const down = await call(`${web.url}/products/p1`, 'GET');
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('REMOTE_UNAVAILABLE');
      const order = await call(`${web.url}/orders`, 'POST', { body: { productId: 'p1', quantity: 1 } });
      expect(order.status).toBe(503);
      expect(order.body.error.code).toBe('REMOTE_UNAVAILABLE');
    } finally {
      await web.close();
      await products.stop();
    }
  });

  it('describes the moved routes in its OpenAPI document', async () => {
    const web = await startServer({ topology: topology('monolith'), port: 0, env });
    try {
      const document = (await call(`${web.url}/openapi.json`, 'GET')).body;
      expect(Object.keys(document.paths)).toEqual(['/products', '/products/{id}']);
      expect(document.paths['/products'].get.parameters[0]).toMatchObject({ name: 'limit', in: 'query' });
    } finally {
      await web.close();
    }
  });
});
