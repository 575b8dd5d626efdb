import assert from 'node:assert/strict';
import { createApp, defineApp, defineError, defineService, injectable, service } from '@blueprint/core';
import { z } from 'zod';

const Product = z.object({ id: z.string(), name: z.string(), stock: z.number().int() });

// #region contract
export const OutOfStockError = defineError('OUT_OF_STOCK', 409);
export const Products = defineService(
  'products',
  {
    get: { input: z.object({ id: z.string() }), output: Product, idempotent: true },
    reserve: { input: z.object({ id: z.string(), quantity: z.number().int() }), output: z.void() },
  },
  { errors: [OutOfStockError], description: 'The catalogue.' },
);
// #endregion contract

@injectable()
class ProductsService {
  private stock = 3;

  async get({ id }: { id: string }) {
    return { id, name: 'keyboard', stock: this.stock };
  }

  async reserve({ id, quantity }: { id: string; quantity: number }) {
    if (quantity > this.stock) {
      throw new OutOfStockError(`product ${id} has ${this.stock} left, ${quantity} requested`, {
        details: { available: this.stock },
      });
    }
    this.stock -= quantity;
  }
}

// A caller in another process catches the same class with the same code, message and details.
const app = defineApp({ name: 'shop', services: [service(Products, ProductsService)] });
const topology = {
  app: 'src/app.ts',
  rpc: { type: 'http' },
  auth: 'none',
  processes: { catalog: { services: ['products'], address: 'http://127.0.0.1:0' }, front: { services: [] } },
};
const catalog = await createApp(app, { topology, process: 'catalog' });
await catalog.start();
const front = await createApp(app, {
  topology,
  process: 'front',
  addresses: { catalog: catalog.rpcUrl ?? '' },
});
await front.start();
try {
  await front.client(Products).reserve({ id: 'p1', quantity: 5 });
  assert.fail('reserve should have thrown');
} catch (error) {
  assert.ok(error instanceof OutOfStockError);
  assert.equal(error.code, 'OUT_OF_STOCK');
  assert.equal(error.status, 409);
  assert.equal(error.message, 'product p1 has 3 left, 5 requested');
  assert.deepEqual(error.details, { available: 3 });
} finally {
  await front.stop();
  await catalog.stop();
}
