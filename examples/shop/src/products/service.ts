/**
 * The products service: catalog reads are cached; reservations invalidate the cached product.
 */
import { type Cache, Cached, CacheInvalidate, CacheTokens } from '@blueprint/cache';
import {
  CoreTokens,
  type HealthRegistry,
  type ImplementationOf,
  type InputOf,
  inject,
  injectable,
  NotFoundError,
  type OnStart,
  type OnStop,
} from '@blueprint/core';
import { openDatabaseFor, type ServiceDatabase } from '../shared/database.js';
import type { Settings } from '../shared/settings.js';
import { OutOfStockError, type Product, type Products } from './contract.js';
import { ProductsRepository } from './repository.js';

const productTag = (id: string) => `product:${id}`;
const CATALOG_TAG = 'catalog';

/** Implements {@link Products} over its own SQLite database. */
@injectable()
export class ProductsService implements ImplementationOf<typeof Products>, OnStart, OnStop {
  private readonly db: ServiceDatabase;
  private readonly repository: ProductsRepository;

  constructor(
    @inject(CoreTokens.Settings) settings: Settings,
    @inject(CoreTokens.Health) health: HealthRegistry,
    @inject(CacheTokens.Cache) private readonly cache: Cache,
  ) {
    this.db = openDatabaseFor('products', settings, health);
    this.repository = new ProductsRepository(this.db);
  }

  onStart(): void {
    this.repository.migrate();
  }

  onStop(): void {
    this.db.close();
  }

  @Cached({ ttl: '30s', tags: () => [CATALOG_TAG] })
  async list(): Promise<Product[]> {
    return this.repository.list();
  }

  @Cached({
    ttl: '30s',
    key: ({ id }: InputOf<typeof Products, 'get'>) => productTag(id),
    tags: ({ id }: InputOf<typeof Products, 'get'>) => [productTag(id)],
  })
  async get({ id }: InputOf<typeof Products, 'get'>): Promise<Product> {
    const product = this.repository.find(id);
    if (product === undefined) throw new NotFoundError(`product ${id} does not exist`, { details: { id } });
    return product;
  }

  @CacheInvalidate({
    tags: ({ productId }: InputOf<typeof Products, 'reserve'>) => [productTag(productId), CATALOG_TAG],
  })
  async reserve({ orderId, productId, quantity }: InputOf<typeof Products, 'reserve'>) {
    const outcome = this.repository.reserve(orderId, productId, quantity);
    switch (outcome.kind) {
      case 'reserved':
      case 'already':
        return { productId, stock: outcome.stock };
      case 'unknown-product':
        throw new NotFoundError(`product ${productId} does not exist`, { details: { id: productId } });
      case 'short':
        throw new OutOfStockError(
          `product ${productId} has ${outcome.available} in stock, ${quantity} requested`,
          {
            details: { productId, available: outcome.available, requested: quantity },
          },
        );
    }
  }

  async release({ orderId }: InputOf<typeof Products, 'release'>) {
    const released = this.repository.release(orderId);
    if (released === undefined) return null;
    await this.cache.invalidateTags([productTag(released.productId), CATALOG_TAG]);
    return released;
  }
}
