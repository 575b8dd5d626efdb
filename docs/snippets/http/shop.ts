/** The products and orders services the http snippets route to, and a started app hosting both. */
import { type BlueprintApp, createApp, defineApp, defineService, injectable, service } from '@blueprint/core';
import { z } from 'zod';

const Product = z.object({ id: z.string(), name: z.string() });

/** The `products` contract. */
export const Products = defineService('products', {
  list: { input: z.void(), output: z.array(Product) },
  get: { input: z.object({ id: z.string() }), output: Product },
});

/** The `orders` contract. */
export const Orders = defineService('orders', {
  place: {
    input: z.object({ productId: z.string(), quantity: z.number().int() }),
    output: z.object({ id: z.string() }),
  },
});

@injectable()
class ProductsService {
  async list() {
    return [{ id: 'p1', name: 'keyboard' }];
  }
  async get({ id }: { id: string }) {
    return { id, name: 'keyboard' };
  }
}

@injectable()
class OrdersService {
  async place(_input: { productId: string; quantity: number }) {
    return { id: 'o1' };
  }
}

/** The app definition. */
export const shop = defineApp({
  name: 'shop',
  services: [service(Products, ProductsService), service(Orders, OrdersService)],
});

/** A one-process topology of {@link shop}. */
export const topology = { app: 'src/app.ts', processes: { main: { services: ['products', 'orders'] } } };

/** Creates and starts {@link shop} in one process. */
export async function startShop(): Promise<BlueprintApp> {
  const app = await createApp(shop, { topology });
  await app.start();
  return app;
}
