import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpSplit } from '../../../../test/harness/topologies.js';
import { createApp } from '../app/create-app.js';
import { defineApp } from '../app.js';
import { defineService } from '../contract.js';
import { definePlugin } from '../plugin/define-plugin.js';
import { service } from '../service.js';
import {
  composeChain,
  type Invocation,
  type Link,
  type LinkStage,
  type LinkTarget,
  orderLinks,
} from './link.js';
import { applyMethodLinks, methodNamesOf } from './method-links.js';
import { getMethodMetadata, setMethodMetadata } from './method-metadata.js';

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
  applies: (target: LinkTarget) => boolean = () => true,
  stage: LinkStage = 'interceptor',
): Link {
  return {
    name,
    stage,
    wrap: (target) =>
      applies(target)
        ? (next: Invocation) =>
            async (...args: unknown[]) => {
              log.push(`${name}:before`);
              const result = await next(...args);
              log.push(`${name}:after`);
              return result;
            }
        : undefined,
  };
}

function appWith(links: Link[], validate = true, metrics = false) {
  const plugin = definePlugin({
    name: 'links',
    setup(ctx) {
      for (const link of links) ctx.addLink(link);
    },
  });
  return createApp(
    defineApp({ name: 'shop', services: [service(Catalog, CatalogService)], plugins: [plugin] }),
    {
      topology: {
        app: './app.js',
        rpc: { type: 'local', validate: { input: validate, output: validate } },
        observability: { metrics: { enabled: metrics }, tracing: { enabled: false } },
        processes: { main: { services: ['catalog'] } },
      },
    },
  );
}

const methodTarget = (method: string): LinkTarget => ({
  entry: 'method',
  placement: 'local',
  process: 'main',
  className: 'X',
  method,
});

describe('composeChain', () => {
  it('orders links by stage from the outside in, then in the order they were added', async () => {
    const log: string[] = [];
    const links = orderLinks([
      recorder('cache', log, undefined, 'interceptor'),
      recorder('auth', log, undefined, 'auth'),
      recorder('retry', log, undefined, 'policy'),
      recorder('validate', log, undefined, 'validation'),
      recorder('breaker', log, undefined, 'policy'),
    ]);
    const call = composeChain(links, methodTarget('m'), async () => 'done');
    expect(await call()).toBe('done');
    expect(log.filter((entry) => entry.endsWith(':before'))).toEqual([
      'validate:before',
      'retry:before',
      'breaker:before',
      'cache:before',
      'auth:before',
    ]);
  });

  it('returns the terminal itself when no link applies', () => {
    const terminal = async () => 1;
    expect(composeChain([recorder('never', [], () => false)], methodTarget('m'), terminal)).toBe(terminal);
  });
});

describe('applyMethodLinks', () => {
  it('composes the links onto the instance, first link outermost', async () => {
    const log: string[] = [];
    const instance = new CatalogService();
    expect(
      applyMethodLinks(instance, [recorder('first', log), recorder('second', log)], { process: 'main' }),
    ).toBe(2);
    expect(await instance.get({ id: 'a' })).toBe('item a');
    expect(log).toEqual(['first:before', 'second:before', 'second:after', 'first:after']);
  });

  it('leaves the instance untouched when no link applies', () => {
    const instance = new CatalogService();
    const before = Object.getOwnPropertyNames(instance);
    expect(applyMethodLinks(instance, [recorder('never', [], () => false)], { process: 'main' })).toBe(0);
    expect(applyMethodLinks(instance, [], { process: 'main' })).toBe(0);
    expect(Object.getOwnPropertyNames(instance)).toEqual(before);
    expect(instance.get).toBe(CatalogService.prototype.get);
  });

  it('wraps only the methods a link picks, keeping `this`', async () => {
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
    applyMethodLinks(counter, [recorder('only-bump', log, (t) => t.method === 'bump')], { process: 'main' });
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

describe('links in an app', () => {
  it('offers each method of a hosted service to the links as a `method` and as a local `call`', async () => {
    const seen: LinkTarget[] = [];
    const app = await appWith([
      { name: 'spy', stage: 'interceptor', wrap: (target) => void seen.push(target) },
    ]);
    app.client(Catalog);
    const entries = seen.map((t) => `${t.entry}/${t.placement}/${t.method}`).sort();
    expect(entries).toEqual(['call/local/count', 'call/local/get', 'method/local/count', 'method/local/get']);
    const get = seen.find((t) => t.method === 'get' && t.entry === 'method')!;
    expect(get).toMatchObject({ className: 'CatalogService', process: 'main', contract: Catalog });
    expect(get.definition).toBe(Catalog.methods.get);
    expect(get.instance).toBeInstanceOf(CatalogService);
  });

  it('wraps the methods a decorator marked, through the client callers receive', async () => {
    const log: string[] = [];
    const app = await appWith([
      recorder(
        'traced',
        log,
        (target) =>
          target.entry === 'method' &&
          getMethodMetadata(target.instance!, target.method, 'traced') !== undefined,
      ),
    ]);
    await app.start();
    expect(await app.client(Catalog).get({ id: 'x' })).toBe('item x');
    expect(await app.client(Catalog).count()).toBe(1);
    expect(log).toEqual(['traced:before', 'traced:after']);
    await app.stop();
  });

  it('keeps no global state: two apps with the same class compose their own links', async () => {
    const log: string[] = [];
    const linked = await appWith([recorder('on', log, (t) => t.entry === 'method')]);
    const plain = await appWith([]);
    await plain.client(Catalog).get({ id: 'a' });
    expect(log).toEqual([]);
    await linked.client(Catalog).get({ id: 'a' });
    expect(log).toEqual(['on:before', 'on:after']);
  });

  it('hands out the implementation itself when no link applies: validation, metrics and tracing off', async () => {
    const app = await appWith([recorder('never', [], () => false)], false);
    const client = app.client(Catalog);
    expect(client).toBeInstanceOf(CatalogService);
    expect(Object.getOwnPropertyNames(client)).toEqual([]);
    expect(client.get).toBe(CatalogService.prototype.get);
    expect(app.client(Catalog)).toBe(client);
  });

  it('hands out a checking client, not the instance, when validation is on', async () => {
    const app = await appWith([]);
    const client = app.client(Catalog);
    expect(client).not.toBeInstanceOf(CatalogService);
    expect(Object.isFrozen(client)).toBe(true);
  });

  it('counts local calls in blueprint_rpc_local_* when metrics are on, like remote ones', async () => {
    const app = await appWith([], true, true);
    await app.start();
    await app.client(Catalog).get({ id: 'a' });
    await app.client(Catalog).get({ id: 'b' });
    await expect(app.client(Catalog).get({ id: 1 } as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const text = await app.metrics();
    expect(text).toMatch(
      /blueprint_rpc_local_requests_total\{service="catalog",method="get",code="OK"[^}]*\} 2/,
    );
    expect(text).toMatch(
      /blueprint_rpc_local_requests_total\{service="catalog",method="get",code="VALIDATION_FAILED"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /blueprint_rpc_local_duration_seconds_count\{service="catalog",method="get"[^}]*\} 3/,
    );
    await app.stop();
  });

  it('offers the methods of a service in another process as a remote `call`', async () => {
    const seen: LinkTarget[] = [];
    const plugin = definePlugin({
      name: 'spy',
      setup: (ctx) => ctx.addLink({ name: 'spy', stage: 'policy', wrap: (target) => void seen.push(target) }),
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
        topology: httpSplit({
          main: { services: ['other'] },
          catalog: { services: ['catalog'], address: 'http://127.0.0.1:1' },
        }),
        process: 'main',
      },
    );
    app.client(Catalog);
    expect(seen.map((t) => [t.entry, t.placement, t.method, t.className]).sort()).toEqual([
      ['call', 'remote', 'count', 'catalogClient'],
      ['call', 'remote', 'get', 'catalogClient'],
    ]);
    await app.stop();
  });
});
