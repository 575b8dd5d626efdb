import {
  type AnyContract,
  type CallContext,
  defineApp,
  defineService,
  type HealthCheck,
  NotFoundError,
  parseTopology,
  RemoteUnavailableError,
  service,
} from '@blueprint/core';
import {
  checkTopologyAgainstApp,
  composeChain,
  createTelemetry,
  type LifecycleHook,
  type Link,
  type Metrics,
  orderLinks,
  type PluginContext,
} from '@blueprint/core/plugin';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type BreakerRegistry, ResilienceTokens } from './breaker-registry.js';
import { type ResiliencePluginOptions, resiliencePlugin } from './plugin.js';
import type { PoliciesConfig } from './policies-config.js';

const Products = defineService('products', {
  get: { input: z.object({ id: z.string() }), output: z.string(), idempotent: true },
  list: { input: z.void(), output: z.array(z.string()), idempotent: true },
  reserve: { input: z.object({ id: z.string() }), output: z.void() },
});
const Front = defineService('front', { home: { input: z.void(), output: z.string() } });
class ProductsService {
  async get() {
    return 'p';
  }
  async list() {
    return [];
  }
  async reserve() {}
}
class FrontService {
  async home() {
    return 'home';
  }
}

type Next = (input: unknown, context?: CallContext) => Promise<unknown>;

/** Runs the plugin's setup for process "front" of a split topology, without createApp. */
async function setup(policies: unknown, options: ResiliencePluginOptions = {}) {
  const plugin = resiliencePlugin(options);
  const app = defineApp({
    name: 'shop',
    services: [service(Products, ProductsService), service(Front, FrontService)],
    plugins: [plugin],
  });
  const topology = parseTopology(
    {
      app: 'x',
      rpc: { type: 'http' },
      auth: 'none',
      processes: {
        front: { services: ['front'] },
        catalog: { services: ['products'], address: 'http://127.0.0.1:1' },
      },
      ...(policies === undefined ? {} : { policies }),
    },
    { sections: [plugin.section!] },
  );
  checkTopologyAgainstApp(topology, app);
  const links: Link[] = [];
  const checks = new Map<string, HealthCheck>();
  const stops: LifecycleHook[] = [];
  const registered = new Map<unknown, unknown>();
  const logs: Record<string, unknown>[] = [];
  const telemetry = createTelemetry({
    app: 'shop',
    process: 'front',
    logDestination: { write: (line) => logs.push(JSON.parse(line)) },
  });
  // Only what the plugin uses; the cast keeps this fake independent of context members it ignores.
  const context = {
    app,
    topology,
    process: { ...topology.processes.front!, name: 'front' },
    config: topology.sections.policies as never,
    container: {
      register: (token: unknown, p: { useValue: unknown }) => registered.set(token, p.useValue),
    } as never,
    addLink: (link: Link) => links.push(link),
    addHealthCheck: (name: string, check: HealthCheck) => checks.set(name, check),
    onStart: () => undefined,
    onReady: () => undefined,
    onDrain: () => undefined,
    onStop: (hook: LifecycleHook) => stops.push(hook),
    hostedServices: () => [],
    telemetry,
  };
  await plugin.setup(context as unknown as PluginContext<PoliciesConfig>);
  const registry = registered.get(ResilienceTokens.BreakerRegistry) as BreakerRegistry;
  /** A remote client of `contract` whose terminal link is `transport`, with the plugin's links. */
  const client = (contract: AnyContract, transport: Record<string, Next>) => {
    const chain = orderLinks(links);
    const methods: Record<string, Next> = {};
    for (const method of contract.methodNames) {
      methods[method] = composeChain(
        chain,
        {
          entry: 'call',
          placement: 'remote',
          process: 'front',
          className: `${contract.name}Client`,
          method,
          contract,
          definition: contract.methods[method],
        },
        (input, context) => transport[method]!(input, context),
      );
    }
    return methods;
  };
  const stop = async () => {
    for (const hook of stops) await hook();
  };
  return { registry, checks, client, stop, telemetry, logs };
}

/** The value of metric `name` with `labels`, as a scrape reads it; undefined when there is none. */
async function sample(metrics: Metrics, name: string, labels: Record<string, string>) {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const { values } = await metric.get();
  return values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
    ?.value;
}

const unavailable = () => Promise.reject(new RemoteUnavailableError('catalog is down'));
const hang: Next = (_input, context) =>
  new Promise((_resolve, reject) =>
    context?.signal?.addEventListener('abort', () => reject(context.signal!.reason)),
  );

describe('resiliencePlugin: remote calls', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('applies the defaults: retry for idempotent methods only, one breaker per service, a readiness check', async () => {
    const { registry, checks, client, stop } = await setup(undefined);
    const get = vi.fn(unavailable);
    const reserve = vi.fn(unavailable);
    const products = client(Products, { get, list: unavailable, reserve });
    const pending = products.get!({ id: 'p1' }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await pending).toMatchObject({ code: 'RETRY_EXHAUSTED', details: { attempts: 3 } });
    expect(get).toHaveBeenCalledTimes(3);
    await expect(products.reserve!({ id: 'p1' })).rejects.toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    expect(reserve).toHaveBeenCalledTimes(1);
    expect(registry.list().map((b) => b.name)).toEqual(['products']);
    expect(registry.get('products')!.stats()).toMatchObject({ calls: 4, failures: 4, state: 'closed' });
    expect([...checks.keys()]).toEqual(['breaker:products']);
    expect(await checks.get('breaker:products')!()).toMatchObject({ ok: true, details: { state: 'closed' } });
    await stop();
    expect(registry.list()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives each attempt its own signal and deadline, and stops retrying at the total deadline', async () => {
    const { client, stop } = await setup({
      default: {
        timeout: '100ms',
        deadline: '250ms',
        retry: { backoff: { initial: '10ms', jitter: 'none' }, maxAttempts: 5 },
      },
    });
    const seen: { signal: AbortSignal | undefined; deadline: number | undefined; at: number }[] = [];
    const get: Next = (input, context) => {
      seen.push({ signal: context?.signal, deadline: context?.deadline, at: Date.now() });
      return hang(input, context);
    };
    const started = Date.now();
    const pending = client(Products, { get, list: hang, reserve: hang }).get!({ id: 'p1' }).catch(
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(300);
    const error = await pending;
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      message: 'products.get (deadline) timed out after 250 ms',
    });
    expect(seen.map((s) => s.at - started)).toEqual([0, 110, 230]);
    expect(seen.map((s) => s.deadline! - s.at)).toEqual([100, 100, 20]);
    expect(new Set(seen.map((s) => s.signal)).size).toBe(3);
    expect(seen.every((s) => s.signal?.aborted)).toBe(true);
    await stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the caller deadline and headers', async () => {
    const { client, stop } = await setup({ default: { timeout: '1s' } });
    let seen: CallContext | undefined;
    const get: Next = async (_input, context) => {
      seen = context;
      return 'ok';
    };
    await client(Products, { get, list: get, reserve: get }).get!(
      { id: 'p1' },
      { timeout: 50, headers: { 'x-correlation-id': 'c1' } },
    );
    expect(seen!.deadline! - Date.now()).toBe(50);
    expect(seen?.headers).toEqual({ 'x-correlation-id': 'c1' });
    await stop();
  });

  it('fails fast once the service breaker opens, for every method of the service', async () => {
    const { client, checks, stop } = await setup({
      default: { retry: false },
      services: { products: { breaker: { consecutiveFailures: 3, halfOpenAfter: '1s' } } },
    });
    const get = vi.fn(unavailable);
    const list = vi.fn(unavailable);
    const products = client(Products, { get, list, reserve: unavailable });
    for (let i = 0; i < 3; i++)
      await expect(products.get!({ id: 'p' })).rejects.toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    await expect(products.list!(undefined)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(list).not.toHaveBeenCalled();
    expect(await checks.get('breaker:products')!()).toMatchObject({
      ok: false,
      details: { state: 'open', retryAfterMs: 1_000, lastFailure: { code: 'REMOTE_UNAVAILABLE' } },
    });
    await stop();
  });

  it('limits concurrency per service with the bulkhead, outside the retry', async () => {
    const { client, stop } = await setup({ services: { products: { bulkhead: { maxConcurrent: 1 } } } });
    let release!: () => void;
    const get: Next = () => new Promise((resolve) => (release = () => resolve('ok')));
    const products = client(Products, { get, list: get, reserve: get });
    const first = products.get!({ id: 'a' });
    await expect(products.list!(undefined)).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED' });
    release();
    await expect(first).resolves.toBe('ok');
    await stop();
  });

  it('uses a configured fallback for failures, not for answers', async () => {
    const { client, stop } = await setup(
      { default: { retry: false } },
      {
        fallbacks: {
          'products.get': (error, input) =>
            `cached ${(input as { id: string }).id} (${(error as { code: string }).code})`,
        },
      },
    );
    const products = client(Products, {
      get: (input) =>
        (input as { id: string }).id === 'gone' ? Promise.reject(new NotFoundError('gone')) : unavailable(),
      list: unavailable,
      reserve: unavailable,
    });
    await expect(products.get!({ id: 'p1' })).resolves.toBe('cached p1 (REMOTE_UNAVAILABLE)');
    await expect(products.get!({ id: 'gone' })).rejects.toBeInstanceOf(NotFoundError);
    await stop();
  });

  it('applies method overrides over service overrides over defaults', async () => {
    const { client, stop } = await setup({
      default: { retry: { maxAttempts: 2, backoff: { initial: '1ms' } } },
      services: { products: { retry: { maxAttempts: 4 } }, 'products.list': { retry: false } },
    });
    const get = vi.fn(unavailable);
    const list = vi.fn(unavailable);
    const products = client(Products, { get, list, reserve: unavailable });
    const results = Promise.allSettled([products.get!({ id: 'a' }), products.list!(undefined)]);
    await vi.runAllTimersAsync();
    await results;
    expect(get).toHaveBeenCalledTimes(4);
    expect(list).toHaveBeenCalledTimes(1);
    await stop();
  });

  it('waits the backoff of the topology between attempts, its keys merged across levels', async () => {
    const { client, stop } = await setup({
      default: { retry: { backoff: { initial: '100ms', jitter: 'none' } } },
      services: {
        products: { retry: { backoff: { factor: 3 } } },
        'products.get': { retry: { maxAttempts: 4, backoff: { max: '500ms' } } },
        'products.list': { retry: { backoff: ['20ms', '40ms'] } },
      },
    });
    const started = Date.now();
    const at: Record<string, number[]> = { get: [], list: [] };
    const failing = (method: string) => () => {
      at[method]!.push(Date.now() - started);
      return unavailable();
    };
    const products = client(Products, { get: failing('get'), list: failing('list'), reserve: unavailable });
    const results = Promise.allSettled([products.get!({ id: 'a' }), products.list!(undefined)]);
    await vi.runAllTimersAsync();
    await results;
    expect(at.get).toEqual([0, 100, 400, 900]);
    expect(at.list).toEqual([0, 20, 60]);
    await stop();
  });

  it('measures breaker state, rejections and retries, and logs when a breaker opens and closes', async () => {
    const { client, stop, telemetry, logs } = await setup({
      default: { retry: { maxAttempts: 2, backoff: { initial: '1ms' } } },
      services: { products: { breaker: { consecutiveFailures: 3, halfOpenAfter: '1s' } } },
    });
    let down = true;
    const get: Next = () => (down ? unavailable() : Promise.resolve('p'));
    const products = client(Products, { get, list: get, reserve: get });
    const { metrics } = telemetry;
    expect(await sample(metrics, 'blueprint_breaker_state', { service: 'products' })).toBe(0);

    const failed = products.get!({ id: 'a' }).catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await failed).toMatchObject({ code: 'RETRY_EXHAUSTED' });
    await expect(products.reserve!({ id: 'a' })).rejects.toMatchObject({ code: 'REMOTE_UNAVAILABLE' });
    await expect(products.reserve!({ id: 'a' })).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await expect(products.reserve!({ id: 'a' })).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });

    expect(await sample(metrics, 'blueprint_breaker_state', { service: 'products' })).toBe(2);
    expect(await sample(metrics, 'blueprint_breaker_rejections_total', { service: 'products' })).toBe(2);
    expect(await sample(metrics, 'blueprint_retries_total', { service: 'products', method: 'get' })).toBe(1);
    expect(await metrics.text()).toMatch(/^blueprint_breaker_state\{service="products",.*\} 2$/m);
    const opened = logs.find((line) => line.msg === 'circuit breaker "products" opened: calls fail fast');
    expect(opened).toMatchObject({
      level: 40,
      component: 'resilience',
      breaker: 'products',
      from: 'closed',
      to: 'open',
      retryAfterMs: 1_000,
      err: { code: 'REMOTE_UNAVAILABLE' },
    });

    await vi.advanceTimersByTimeAsync(1_000);
    down = false;
    await expect(products.get!({ id: 'a' })).resolves.toBe('p');
    expect(await sample(metrics, 'blueprint_breaker_state', { service: 'products' })).toBe(0);
    expect(
      logs.find((line) => line.msg === 'circuit breaker "products" closed: calls flow again'),
    ).toMatchObject({ level: 30, breaker: 'products', from: 'half-open', to: 'closed' });
    await stop();
    expect(await sample(metrics, 'blueprint_breaker_state', { service: 'products' })).toBeUndefined();
  });

  it('counts bulkhead rejections per service', async () => {
    const { client, stop, telemetry } = await setup({
      services: { products: { bulkhead: { maxConcurrent: 1 } } },
    });
    let release!: () => void;
    const get: Next = () => new Promise((resolve) => (release = () => resolve('ok')));
    const products = client(Products, { get, list: get, reserve: get });
    const first = products.get!({ id: 'a' });
    await expect(products.list!(undefined)).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED' });
    await expect(products.list!(undefined)).rejects.toMatchObject({ code: 'BULKHEAD_REJECTED' });
    release();
    await first;
    expect(
      await sample(telemetry.metrics, 'blueprint_bulkhead_rejections_total', { service: 'products' }),
    ).toBe(2);
    await stop();
  });

  it('does not wrap anything when every policy is off', async () => {
    const { client, registry, stop } = await setup({ default: { retry: false, breaker: false } });
    const get = vi.fn(async () => 'ok');
    const transport = { get, list: get, reserve: get };
    const products = client(Products, transport);
    expect(registry.list()).toEqual([]);
    await expect(products.get!({ id: 'a' })).resolves.toBe('ok');
    await stop();
  });
});

describe('resiliencePlugin: the policies section', () => {
  const parse = async (policies: unknown) =>
    setup(policies).then(
      () => 'ok',
      (e: Error) => e.message,
    );

  it('accepts durations with units and numbers', async () => {
    expect(
      await parse({
        default: { timeout: '250ms', deadline: 2000, retry: { budget: { ratio: 0.1, window: '30s' } } },
        services: {
          products: { breaker: { halfOpenAfter: '5s', consecutiveFailures: 5 } },
          'products.get': { timeout: false },
        },
      }),
    ).toBe('ok');
  });

  it.each([
    [{ default: { timeout: 'soon' } }, /topology.policies.default.timeout: invalid duration "soon"/],
    [{ default: { retries: 3 } }, /topology.policies.default.retries: unknown key "retries"/],
    [{ default: { retry: 3 } }, /topology.policies.default.retry: use an object of retry options, or false/],
    [{ default: { retry: { maxAtempts: 3 } } }, /topology.policies.default.retry.maxAtempts: unknown key/],
    [
      { default: { breaker: { failureRate: 150 } } },
      /breaker.failureRate: use a percentage from 0 to 100, e.g. 50 \(got 150\)/,
    ],
    [{ default: { timeout: 0 } }, /default.timeout: use a duration of at least 1 ms \(got 0 ms\)/],
    [
      { default: { retry: { backoff: { initial: 'soon' } } } },
      /topology.policies.default.retry.backoff.initial: invalid duration "soon"/,
    ],
    [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the topology's own ${VAR:-default} syntax
      { default: { retry: { maxAttempts: '${MAX_ATTEMPTS:-zero}' } } },
      /retry.maxAttempts: use a whole number >= 1 \(got "zero"\)/,
    ],
    [
      { services: { 'products.get': { breaker: {} } } },
      /breaker is shared by all methods of a service; move it to "services.products"/,
    ],
    [
      { services: { 'products.get': { retry: { budget: false } } } },
      /move it to "services.products.retry.budget"/,
    ],
    [
      { services: { prodcts: {} } },
      /topology.policies.services.prodcts: unknown service "prodcts"; did you mean "products"\?; the app has: products, front/,
    ],
    [
      { services: { 'products.gett': {} } },
      /service "products" has no method "gett"; did you mean "get"\?; it has: get, list, reserve/,
    ],
    [
      { services: { 'products.reserve': { retry: { maxAttempts: 2 } } } },
      /"products.reserve" is not idempotent/,
    ],
    [
      { services: { products: { bulkhead: { maxQueue: 3 } } } },
      /bulkhead of service "products" has no maxConcurrent/,
    ],
  ])('rejects %j', async (policies, message) => {
    expect(await parse(policies)).toMatch(message);
  });

  it.each([
    ['baseDelay', 'backoff.initial', { default: { retry: { baseDelay: '50ms' } } }],
    ['maxDelay', 'backoff.max', { services: { products: { retry: { maxDelay: '1s' } } } }],
    ['jitter', 'backoff.jitter', { services: { 'products.get': { retry: { jitter: 'none' } } } }],
  ])('names the new key of the renamed retry key %s (%s)', async (old, renamed, policies) => {
    const message = await parse(policies);
    expect(message).toMatch(/^invalid topology/);
    expect(message).toMatch(
      new RegExp(`\\.retry\\.${old}: "${old}" was renamed: write "${renamed}" instead`),
    );
  });

  it('rejects fallbacks for methods the app does not have', async () => {
    await expect(setup(undefined, { fallbacks: { 'products.nope': () => 1 } })).rejects.toThrow(
      /"products.nope" is not a method of the app/,
    );
  });
});
