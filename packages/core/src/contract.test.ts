import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineApp } from './app.js';
import {
  type AnyContract,
  type ClientOf,
  defineService,
  type ImplementationOf,
  type InputOf,
  isContract,
  type OutputOf,
} from './contract.js';
import { AppDefinitionError, defineError } from './errors.js';
import { definePlugin } from './plugin/define-plugin.js';
import { service } from './service.js';

const OutOfStockError = defineError('OUT_OF_STOCK', 409);
const Products = defineService(
  'products',
  {
    get: {
      input: z.object({ id: z.string() }),
      output: z.object({ id: z.string(), at: z.iso.datetime().transform((s) => new Date(s)) }),
      idempotent: true,
    },
    reserve: { input: z.object({ id: z.string(), quantity: z.number().int() }), output: z.void() },
  },
  { errors: [OutOfStockError], description: 'The catalogue.' },
);

describe('defineService', () => {
  it('returns a frozen contract with its name, methods, errors and a shared token', () => {
    expect(Products.kind).toBe('blueprint:contract');
    expect(Products.name).toBe('products');
    expect(Products.methodNames).toEqual(['get', 'reserve']);
    expect(Products.errors).toEqual([OutOfStockError]);
    expect(Products.description).toBe('The catalogue.');
    expect(Products.token).toBe(Symbol.for('blueprint:service:products'));
    expect(Object.isFrozen(Products)).toBe(true);
    expect(isContract(Products)).toBe(true);
    expect(isContract({ name: 'products' })).toBe(false);
  });

  it.each(['Products', 'my_service', '1st', ''])('refuses the service name %j', (name) => {
    expect(() => defineService(name, {})).toThrow(AppDefinitionError);
  });

  it.each(['constructor', 'then', 'toString', 'toJSON', 'onStart', 'onStop', 'with-dash'])(
    'refuses the method name %s',
    (method) => {
      expect(() => defineService('svc', { [method]: { input: z.void(), output: z.void() } })).toThrow(
        `invalid method name "svc.${method}"`,
      );
    },
  );

  it('refuses a method without zod schemas', () => {
    expect(() => defineService('svc', { m: { input: z.void() } as never })).toThrow(
      'method "svc.m" needs zod schemas for both "input" and "output"',
    );
  });

  it('types clients and implementations from the schemas', () => {
    expectTypeOf<InputOf<typeof Products, 'get'>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<OutputOf<typeof Products, 'get'>>().toEqualTypeOf<{ id: string; at: Date }>();
    expectTypeOf<ClientOf<typeof Products>['get']>().returns.toEqualTypeOf<
      Promise<{ id: string; at: Date }>
    >();
    expectTypeOf<ImplementationOf<typeof Products>['get']>().returns.toEqualTypeOf<
      Promise<{ id: string; at: string }>
    >();
    const any: AnyContract = Products;
    expect(any).toBe(Products);
  });
});

describe('defineApp and service', () => {
  class ProductsService implements ImplementationOf<typeof Products> {
    async get({ id }: { id: string }) {
      return { id, at: '2024-01-01T00:00:00.000Z' };
    }
    async reserve() {}
  }

  it('freezes the app and keeps the order of services, providers and plugins', () => {
    const plugin = definePlugin({ name: 'p', setup() {} });
    const app = defineApp({
      name: 'shop',
      services: [service(Products, ProductsService)],
      plugins: [plugin],
    });
    expect(app.services.map((s) => s.contract.name)).toEqual(['products']);
    expect(app.plugins).toEqual([plugin]);
    expect(app.providers).toEqual([]);
    expect(Object.isFrozen(app)).toBe(true);
  });

  it('refuses a bad app name, a service listed twice, duplicate plugins and a section claimed twice', () => {
    const registration = service(Products, ProductsService);
    expect(() => defineApp({ name: 'Shop', services: [] })).toThrow('invalid app name "Shop"');
    expect(() => defineApp({ name: 'shop', services: [registration, registration] })).toThrow(
      'service "products" is listed twice in app "shop"',
    );
    const plugin = definePlugin({ name: 'p', setup() {} });
    expect(() => defineApp({ name: 'shop', services: [], plugins: [plugin, plugin] })).toThrow(
      'plugin "p" is listed twice',
    );
    const section = { key: 'cache', schema: z.object({}) };
    expect(() =>
      defineApp({
        name: 'shop',
        services: [],
        plugins: [
          definePlugin({ name: 'a', section, setup() {} }),
          definePlugin({ name: 'b', section, setup() {} }),
        ],
      }),
    ).toThrow('two plugins claim the topology section "cache"');
  });

  it('refuses something that is not a contract or not a class', () => {
    expect(() => service({} as typeof Products, ProductsService)).toThrow(AppDefinitionError);
    expect(() => service(Products, 'ProductsService' as never)).toThrow('the implementation must be a class');
  });
});
