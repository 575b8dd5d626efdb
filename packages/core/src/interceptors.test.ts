import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineApp, service } from './app.js';
import { defineService } from './contract.js';
import { createApp } from './create-app.js';
import {
  applyInterceptors,
  getMethodMetadata,
  type InterceptionTarget,
  type MethodInterceptor,
  methodNamesOf,
  setMethodMetadata,
} from './interceptors.js';
import { definePlugin } from './plugin.js';

/** A decorator the way @Cached or @CircuitBreaker record themselves: metadata only. */
const Traced =
  (label: string): MethodDecorator =>
  (prototype, method) =>
    setMethodMetadata(prototype, method, 'traced', label);

const Catalog = defineService('catalog', {
  get: { input: z.object({ id: z.string() }), output: z.string(), idempotent: true },
  count: { input: z.void(), output: z.number() },
});

class CatalogService {
  @Traced('catalog.get')
  async get({ id }: { id: string }) {
    return `item ${id}`;
  }
  async count() {
    return 1;
  }
}

function recorder(
  name: string,
  log: string[],
  applies: (target: InterceptionTarget) => boolean = () => true,
) {
  const interceptor: MethodInterceptor = {
    name,
    intercept: (target) =>
      applies(target)
        ? (next) =>
            async (...args: unknown[]) => {
              log.push(`${name}:before`);
              const result = await next(...args);
              log.push(`${name}:after`);
              return result;
            }
        : undefined,
  };
  return interceptor;
}

function appWith(interceptors: MethodInterceptor[], validate = true) {
  const plugin = definePlugin({
    name: 'interceptors',
    setup(ctx) {
      for (const interceptor of interceptors) ctx.addInterceptor(interceptor);
    },
  });
  return createApp(
    defineApp({ name: 'shop', services: [service(Catalog, CatalogService)], plugins: [plugin] }),
    {
      topology: {
        app: './app.js',
        rpc: { type: 'local', validate: { input: validate, output: validate } },
        processes: { main: { services: ['catalog'] } },
      },
    },
  );
}

describe('applyInterceptors', () => {
  it('makes the first interceptor the outermost', async () => {
    const log: string[] = [];
    const instance = new CatalogService();
    expect(
      applyInterceptors(instance, [recorder('first', log), recorder('second', log)], {
        kind: 'provider',
        process: 'main',
      }),
    ).toBe(2);
    expect(await instance.get({ id: 'a' })).toBe('item a');
    expect(log).toEqual(['first:before', 'second:before', 'second:after', 'first:after']);
  });

  it('leaves the instance untouched when no interceptor applies', () => {
    const instance = new CatalogService();
    const before = Object.getOwnPropertyNames(instance);
    expect(
      applyInterceptors(instance, [recorder('never', [], () => false)], {
        kind: 'provider',
        process: 'main',
      }),
    ).toBe(0);
    expect(applyInterceptors(instance, [], { kind: 'provider', process: 'main' })).toBe(0);
    expect(Object.getOwnPropertyNames(instance)).toEqual(before);
    expect(instance.get).toBe(CatalogService.prototype.get);
  });

  it('wraps only the methods an interceptor picks, keeping `this`', async () => {
    class Counter {
      private n = 0;
      async bump() {
        return ++this.n;
      }
      async peek() {
        return this.n;
      }
    }
    const log: string[] = [];
    const counter = new Counter();
    applyInterceptors(counter, [recorder('only-bump', log, (t) => t.method === 'bump')], {
      kind: 'provider',
      process: 'main',
    });
    expect(await counter.bump()).toBe(1);
    expect(await counter.peek()).toBe(1);
    expect(Object.hasOwn(counter, 'bump')).toBe(true);
    expect(Object.hasOwn(counter, 'peek')).toBe(false);
    expect(log).toEqual(['only-bump:before', 'only-bump:after']);
  });

  it('lists methods of the class chain without constructor', () => {
    class Base {
      async inherited() {}
    }
    class Derived extends Base {
      async own() {}
    }
    expect(methodNamesOf(new Derived()).sort()).toEqual(['inherited', 'own']);
  });
});

describe('method metadata', () => {
  it('reads what a decorator recorded, from an instance or its class', () => {
    expect(getMethodMetadata(new CatalogService(), 'get', 'traced')).toBe('catalog.get');
    expect(getMethodMetadata(CatalogService, 'get', 'traced')).toBe('catalog.get');
    expect(getMethodMetadata(new CatalogService(), 'count', 'traced')).toBeUndefined();
  });
});

describe('interceptors in an app', () => {
  it('tells the interceptor where the method lives and what the contract says', async () => {
    const seen: InterceptionTarget[] = [];
    const app = await appWith([{ name: 'spy', intercept: (target) => void seen.push(target) }]);
    app.client(Catalog);
    expect(seen.map((t) => t.method).sort()).toEqual(['count', 'get']);
    const get = seen.find((t) => t.method === 'get')!;
    expect(get).toMatchObject({
      kind: 'local',
      className: 'CatalogService',
      process: 'main',
      contract: Catalog,
    });
    expect(get.definition).toBe(Catalog.methods.get);
    expect(get.instance).toBeInstanceOf(CatalogService);
  });

  it('wraps the methods a decorator marked, through the client callers receive', async () => {
    const log: string[] = [];
    const app = await appWith([
      recorder(
        'traced',
        log,
        (target) => getMethodMetadata(target.instance, target.method, 'traced') !== undefined,
      ),
    ]);
    await app.start();
    expect(await app.client(Catalog).get({ id: 'x' })).toBe('item x');
    expect(await app.client(Catalog).count()).toBe(1);
    expect(log).toEqual(['traced:before', 'traced:after']);
    await app.stop();
  });

  it('keeps no global state: two apps with the same class intercept independently', async () => {
    const log: string[] = [];
    const intercepted = await appWith([recorder('on', log)]);
    const plain = await appWith([]);
    await plain.client(Catalog).get({ id: 'a' });
    expect(log).toEqual([]);
    await intercepted.client(Catalog).get({ id: 'a' });
    expect(log).toEqual(['on:before', 'on:after']);
  });

  it('hands out the implementation itself when no interceptor applies, validation is off and serialize off', async () => {
    const app = await appWith([recorder('never', [], () => false)], false);
    const client = app.client(Catalog);
    expect(client).toBeInstanceOf(CatalogService);
    expect(Object.getOwnPropertyNames(client)).toEqual([]);
    expect(client.get).toBe(CatalogService.prototype.get);
    expect(app.client(Catalog)).toBe(client);
  });

  it('hands out a checking wrapper, not the instance, when validation is on', async () => {
    const app = await appWith([]);
    const client = app.client(Catalog);
    expect(client).not.toBeInstanceOf(CatalogService);
    expect(Object.isFrozen(client)).toBe(true);
  });

  it('offers remote clients to interceptors as kind "remote"', async () => {
    const seen: InterceptionTarget[] = [];
    const plugin = definePlugin({
      name: 'spy',
      setup: (ctx) => ctx.addInterceptor({ name: 'spy', intercept: (target) => void seen.push(target) }),
    });
    const Other = defineService('other', { ping: { input: z.void(), output: z.void() } });
    class OtherService {
      async ping() {}
    }
    const app = await createApp(
      defineApp({
        name: 'shop',
        services: [service(Catalog, CatalogService), service(Other, OtherService)],
        plugins: [plugin],
      }),
      {
        topology: {
          app: './app.js',
          rpc: { type: 'http' },
          processes: {
            main: { services: ['other'] },
            catalog: { services: ['catalog'], address: 'http://127.0.0.1:1' },
          },
        },
        process: 'main',
      },
    );
    app.client(Catalog);
    expect(seen.map((t) => [t.kind, t.method, t.className]).sort()).toEqual([
      ['remote', 'count', 'catalogClient'],
      ['remote', 'get', 'catalogClient'],
    ]);
    await app.stop();
  });
});
