import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpSplit } from '../../../../test/harness/topologies.js';
import { type AppDefinition, defineApp } from '../app.js';
import { type InjectionToken, inject, injectable } from '../container.js';
import { type ClientOf, defineService, type ImplementationOf } from '../contract.js';
import { AppDefinitionError, isRemoteUnavailableError } from '../errors.js';
import { definePlugin, type Plugin } from '../plugin/define-plugin.js';
import { type Provider, service } from '../service.js';
import { type BlueprintApp, createApp } from './create-app.js';
import { CoreTokens } from './tokens.js';

const LOG: InjectionToken<string[]> = Symbol('log');

const Stock = defineService('stock', {
  level: { input: z.object({ sku: z.string() }), output: z.number() },
});
const Orders = defineService('orders', {
  place: { input: z.object({ sku: z.string() }), output: z.object({ accepted: z.boolean() }) },
});

@injectable()
class StockService implements ImplementationOf<typeof Stock> {
  constructor(@inject(LOG) private readonly log: string[]) {}
  async level() {
    return 3;
  }
  onStart() {
    this.log.push('service stock: start');
  }
  onStop() {
    this.log.push('service stock: stop');
  }
}

@injectable()
class OrdersService implements ImplementationOf<typeof Orders> {
  constructor(
    @inject(LOG) private readonly log: string[],
    @inject(Stock.token) private readonly stock: ClientOf<typeof Stock>,
  ) {}
  async place({ sku }: { sku: string }) {
    return { accepted: (await this.stock.level({ sku })) > 0 };
  }
  async onStart() {
    this.log.push('service orders: start');
  }
  async onStop() {
    this.log.push('service orders: stop');
  }
}

/** A plugin that records its hooks, and the app's state when each ran. */
function tracer(name: string, log: string[], fail?: 'start' | 'ready' | 'stop'): Plugin {
  return definePlugin({
    name,
    setup(ctx) {
      let app: () => BlueprintApp['state'] = () => 'created';
      ctx.container.register(`${name}:state`, { useValue: (get: typeof app) => (app = get) });
      ctx.onStart(() => {
        log.push(`plugin ${name}: start`);
        if (fail === 'start') throw new Error(`${name} cannot start`);
      });
      ctx.onReady(() => {
        log.push(
          `plugin ${name}: ready (${ctx
            .hostedServices()
            .map((s) => s.contract.name)
            .join(',')})`,
        );
        if (fail === 'ready') throw new Error(`${name} is not ready`);
      });
      ctx.onDrain(() => void log.push(`plugin ${name}: drain`));
      ctx.onStop(() => {
        log.push(`plugin ${name}: stop`);
        if (fail === 'stop') throw new Error(`${name} cannot stop`);
      });
    },
  });
}

function shop(log: string[], plugins: Plugin[], providers: Provider[] = []): AppDefinition {
  return defineApp({
    name: 'shop',
    services: [service(Stock, StockService), service(Orders, OrdersService)],
    providers: [{ token: LOG, useValue: log }, ...providers],
    plugins,
  });
}

/** What the services log as they start (stock first: orders depends on it) and stop (in reverse). */
const SERVICES_STARTED = ['service stock: start', 'service orders: start'];
const SERVICES_STOPPED = ['service orders: stop', 'service stock: stop'];

/** What the tracer plugins `names` log for `hook`, in that order. */
const pluginLines = (hook: string, ...names: string[]) => names.map((name) => `plugin ${name}: ${hook}`);

const monolith = {
  app: './app.js',
  rpc: { type: 'local' },
  processes: { main: { services: ['stock', 'orders'] } },
};

describe('lifecycle order', () => {
  it('starts plugins, then services, then announces ready; stops in reverse with drain first', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('first', log), tracer('second', log)]), {
      topology: monolith,
    });
    expect(app.state).toBe('created');
    await app.start();
    expect(app.state).toBe('started');
    expect(log).toEqual([
      ...pluginLines('start', 'first', 'second'),
      ...SERVICES_STARTED,
      ...pluginLines('ready (stock,orders)', 'first', 'second'),
    ]);
    expect(await app.client(Orders).place({ sku: 'a' })).toEqual({ accepted: true });
    log.length = 0;
    await app.stop();
    expect(app.state).toBe('stopped');
    expect(log).toEqual([
      ...pluginLines('drain', 'second', 'first'),
      ...SERVICES_STOPPED,
      ...pluginLines('stop', 'second', 'first'),
    ]);
  });

  it('is safe to stop twice, concurrently or not; hooks run once', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('only', log)]), { topology: monolith });
    await app.start();
    log.length = 0;
    await Promise.all([app.stop(), app.stop()]);
    await app.stop();
    expect(log.filter((line) => line === 'plugin only: stop')).toHaveLength(1);
  });

  it('stops an app that never started without running hooks, and refuses to start it afterwards', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('only', log)]), { topology: monolith });
    await app.stop();
    expect(app.state).toBe('stopped');
    expect(log).toEqual([]);
    await expect(app.start()).rejects.toBeInstanceOf(AppDefinitionError);
  });

  it('refuses a second start', async () => {
    const app = await createApp(shop([], []), { topology: monolith });
    await app.start();
    await expect(app.start()).rejects.toThrow(/cannot start process "main" in state "started"/);
    await app.stop();
  });

  it('waits for a start in progress when stop() is called during it', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowPlugin = definePlugin({
      name: 'slow',
      setup: (ctx) => {
        ctx.onStart(() => gate);
        ctx.onStop(() => void log.push('slow: stop'));
      },
    });
    const app = await createApp(shop(log, [slowPlugin]), { topology: monolith });
    const starting = app.start();
    const stopping = app.stop();
    expect(app.state).toBe('starting');
    release();
    await starting;
    await stopping;
    expect(app.state).toBe('stopped');
    expect(log).toEqual([...SERVICES_STARTED, ...SERVICES_STOPPED, 'slow: stop']);
  });
});

describe('a failing start', () => {
  it('rejects with the error, stops what started, and ends failed', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('first', log), tracer('second', log, 'start')]), {
      topology: monolith,
    });
    await expect(app.start()).rejects.toThrow('second cannot start');
    expect(app.state).toBe('failed');
    expect(log).toEqual([
      ...pluginLines('start', 'first', 'second'),
      ...pluginLines('drain', 'second', 'first'),
      ...pluginLines('stop', 'second', 'first'),
    ]);
    await app.stop();
    expect(app.state).toBe('failed');
  });

  it('stops services and the RPC server when onReady fails', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('picky', log, 'ready')]), {
      topology: httpSplit({ main: { services: ['stock', 'orders'], address: 'http://127.0.0.1:0' } }),
    });
    const before = await settledHandles();
    await expect(app.start()).rejects.toThrow('picky is not ready');
    expect(log).toContain('service stock: stop');
    expect(log).toContain('service orders: stop');
    await waitUntil(() => sameHandles(before));
    expect(sameHandles(before), JSON.stringify({ before, after: countHandles() })).toBe(true);
  });

  it('reports the first stop error after running every stop hook', async () => {
    const log: string[] = [];
    const app = await createApp(shop(log, [tracer('first', log), tracer('second', log, 'stop')]), {
      topology: monolith,
    });
    await app.start();
    await expect(app.stop()).rejects.toThrow('second cannot stop');
    expect(log.slice(-2)).toEqual(['plugin second: stop', 'plugin first: stop']);
    expect(app.state).toBe('stopped');
  });
});

describe('wiring', () => {
  it('registers the app, topology, process and codec in the process container', async () => {
    const app = await createApp(shop([], []), { topology: monolith });
    expect(app.resolve(CoreTokens.App).name).toBe('shop');
    expect(app.resolve(CoreTokens.Process)).toMatchObject({ name: 'main', services: ['stock', 'orders'] });
    expect(app.resolve(CoreTokens.Topology).rpc.type).toBe('local');
    expect(app.resolve(CoreTokens.Codec).contentType).toBe('application/json');
    expect(app.process).toBe('main');
    expect(app.rpcUrl).toBeUndefined();
  });

  it('gives every app its own container and instances', async () => {
    const first = await createApp(shop([], []), { topology: monolith });
    const second = await createApp(shop([], []), { topology: monolith });
    expect(first.client(Stock)).not.toBe(second.client(Stock));
    expect(first.client(Stock)).toBe(first.client(Stock));
  });

  it('applies overrides last, e.g. a test double for a provider', async () => {
    const log: string[] = [];
    const replaced: string[] = [];
    const app = await createApp(shop(log, []), {
      topology: monolith,
      overrides: [{ token: LOG, useValue: replaced }],
    });
    await app.start();
    await app.stop();
    expect(log).toEqual([]);
    expect(replaced).toEqual([...SERVICES_STARTED, ...SERVICES_STOPPED]);
  });

  it('names a class that misses a contract method', async () => {
    class Incomplete {}
    const app = await createApp(
      defineApp({
        name: 'shop',
        services: [service(Stock, Incomplete as unknown as typeof StockService)],
        providers: [{ token: LOG, useValue: [] }],
      }),
      { topology: { app: './app.js', processes: { main: { services: ['stock'] } } } },
    );
    await expect(app.start()).rejects.toThrow(
      'Incomplete does not implement stock.level; add the method(s) to the class',
    );
  });

  it('names a constructor parameter that has neither @inject nor metadata', async () => {
    class NoToken {
      constructor(readonly dependency: unknown) {}
      async level() {
        return 0;
      }
    }
    const app = await createApp(
      defineApp({ name: 'shop', services: [service(Stock, NoToken as unknown as typeof StockService)] }),
      { topology: { app: './app.js', processes: { main: { services: ['stock'] } } } },
    );
    const error = await app.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppDefinitionError);
    expect((error as Error).message).toContain(
      'cannot create NoToken: constructor parameter(s) #0 have no @inject(TOKEN)',
    );
  });

  it('reports readiness: false before start and after stop, remote processes checked by name', async () => {
    const app = await createApp(shop([], []), {
      topology: {
        app: './app.js',
        rpc: { type: 'http', timeout: '1s' },
        auth: 'none',
        processes: {
          main: { services: ['orders'] },
          stock: { services: ['stock'], address: 'http://127.0.0.1:1' },
        },
      },
      process: 'main',
    });
    expect((await app.readiness()).ok).toBe(false);
    await app.start();
    const report = await app.readiness();
    // A dependency that is down is reported, but does not take this process out of rotation.
    expect(report.ok).toBe(true);
    expect(report.checks['rpc:stock']).toMatchObject({
      ok: false,
      required: false,
      details: { url: 'http://127.0.0.1:1' },
    });
    const error = await app
      .client(Orders)
      .place({ sku: 'a' })
      .catch((e: unknown) => e);
    expect(isRemoteUnavailableError(error)).toBe(true);
    await app.stop();
    expect((await app.readiness()).ok).toBe(false);
  });

  it('with readiness.dependencies "required", a dependency that is down makes the process not ready', async () => {
    const app = await createApp(shop([], []), {
      topology: {
        app: './app.js',
        rpc: { type: 'http', timeout: '1s' },
        auth: 'none',
        readiness: { dependencies: 'required' },
        processes: {
          main: { services: ['orders'] },
          stock: { services: ['stock'], address: 'http://127.0.0.1:1' },
        },
      },
      process: 'main',
    });
    await app.start();
    const report = await app.readiness();
    expect(report.ok).toBe(false);
    expect(report.checks['rpc:stock']).toMatchObject({ ok: false, required: true });
    await app.stop();
  });
});

function countHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (type === 'TCPServerWrap' || type === 'TCPSocketWrap' || type === 'Timeout')
      counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

describe('no handles left', () => {
  it('leaves no socket, server or timer after an http app served calls and stopped', async () => {
    const before = await settledHandles();
    const topology = httpSplit({
      stock: { services: ['stock'], address: 'http://127.0.0.1:0' },
      orders: { services: ['orders'] },
    });
    const log: string[] = [];
    const stock = await createApp(shop(log, []), { topology, process: 'stock' });
    await stock.start();
    const orders = await createApp(shop(log, []), {
      topology,
      process: 'orders',
      addresses: { stock: stock.rpcUrl! },
    });
    await orders.start();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => orders.client(Orders).place({ sku: 'a' })),
    );
    expect(results.every((r) => r.accepted)).toBe(true);
    expect((await orders.readiness()).ok).toBe(true);
    expect(countHandles()).not.toEqual(before);
    await orders.stop();
    await stock.stop();
    await waitUntil(() => sameHandles(before));
    expect(sameHandles(before), JSON.stringify({ before, after: countHandles() })).toBe(true);
  });
});

/** Sockets of earlier tests close on the next turns of the event loop: wait until none is left. */
async function settledHandles(): Promise<Record<string, number>> {
  await waitUntil(() => !process.getActiveResourcesInfo().some((type) => type.startsWith('TCP')));
  return countHandles();
}

/** Same sockets and servers as `expected`, and no more timers (other code's timers may expire meanwhile). */
function sameHandles(expected: Record<string, number>): boolean {
  const now = countHandles();
  return (
    now.TCPServerWrap === expected.TCPServerWrap &&
    now.TCPSocketWrap === expected.TCPSocketWrap &&
    (now.Timeout ?? 0) <= (expected.Timeout ?? 0)
  );
}

/** Handles close on the next turns of the event loop: poll briefly instead of sleeping. */
async function waitUntil(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now();
  while (!condition() && Date.now() - started < timeoutMs)
    await new Promise((resolve) => setImmediate(resolve));
}
