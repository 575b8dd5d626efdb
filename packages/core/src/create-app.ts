/**
 * `createApp` builds one process of an app from a topology: a container, the hosted services (or
 * remote clients for the others), the plugins, an RPC server when other processes call in, and the
 * `start()` / `stop()` lifecycle.
 */
import 'reflect-metadata';
import {
  type DependencyContainer,
  container as globalContainer,
  type InjectionToken,
  instanceCachingFactory,
} from 'tsyringe';
import type { AppDefinition, Constructor, Provider } from './app.js';
import { type Codec, jsonCodec } from './codec.js';
import type { AnyContract, ClientOf } from './contract.js';
import { AppDefinitionError, TopologyError } from './errors.js';
import { applyInterceptors, type MethodInterceptor } from './interceptors.js';
import type { LogDestination } from './observability/logger.js';
import { type MetricsServer, startMetricsServer } from './observability/metrics-server.js';
import { instrumentDispatcher, instrumentRpcClient } from './observability/rpc-instrumentation.js';
import { createTelemetry, type Telemetry } from './observability/telemetry.js';
import type {
  HealthCheck,
  HealthCheckResult,
  HostedService,
  LifecycleHook,
  PluginContext,
} from './plugin.js';
import { createLocalClient, createRemoteClient } from './rpc/contract-clients.js';
import { createDispatcher } from './rpc/dispatcher.js';
import { createHttpRpcClient } from './rpc/http-client.js';
import { startHttpRpcServer } from './rpc/http-server.js';
import type { RpcClient, RpcServer } from './rpc/types.js';
import {
  checkTopologyAgainstApp,
  loadTopologyFile,
  type ProcessTopology,
  parseTopology,
  type Topology,
} from './topology.js';

/** Tokens core registers in every process container. */
export const Tokens = {
  /** The {@link AppDefinition}. */
  App: Symbol.for('blueprint:app') as InjectionToken<AppDefinition>,
  /** The validated {@link Topology}. */
  Topology: Symbol.for('blueprint:topology') as InjectionToken<Topology>,
  /** This process: `{ name, services, address? }`. */
  Process: Symbol.for('blueprint:process') as InjectionToken<ProcessTopology & { name: string }>,
  /** The codec shared by RPC, events and cache. */
  Codec: Symbol.for('blueprint:codec') as InjectionToken<Codec>,
  /** The topology's `settings`: `Readonly<Record<string, string | number | boolean>>`. */
  Settings: Symbol.for('blueprint:settings') as InjectionToken<
    Readonly<Record<string, string | number | boolean>>
  >,
  /** This process's {@link HealthRegistry}: services add readiness checks (their database, ...). */
  Health: Symbol.for('blueprint:health') as InjectionToken<HealthRegistry>,
  /** This process's {@link Telemetry}: `{ logger, metrics, tracer, startSpan, ... }`. */
  Telemetry: Symbol.for('blueprint:telemetry') as InjectionToken<Telemetry>,
} as const;

/** Readiness checks of a process. Plugins add theirs through the plugin context; services inject this. */
export interface HealthRegistry {
  /** Adds a readiness check reported under `name`. Names are unique per process. */
  add(name: string, check: HealthCheck): void;
  /** Runs every check. */
  readiness(): Promise<ReadinessReport>;
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** A parsed topology, a topology object as read from JSON, or the path of a topology file. */
  readonly topology: Topology | Record<string, unknown> | string;
  /** The process to build. May be left out when the topology has one process. */
  readonly process?: string;
  /** Environment for `${VAR}` interpolation. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides where the RPC server binds (tests use `{ port: 0 }`). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Overrides the address of remote processes by name (tests that bind port 0). */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Extra registrations applied last, e.g. test doubles: `[{ token, useValue }]`. */
  readonly overrides?: readonly Provider[];
  /**
   * Where the process's log lines go (one JSON line per `write`), e.g. an array in a test:
   * `{ write: (line) => lines.push(JSON.parse(line)) }`. Default: standard output.
   */
  readonly logDestination?: LogDestination;
}

/** The lifecycle state of a process. */
export type AppState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped' | 'failed';

/** Readiness of a process: each dependency with its state. */
export interface ReadinessReport {
  /** True when every check is ok. */
  readonly ok: boolean;
  /** Results by check name (`rpc:products`, `redis:cache`, ...). */
  readonly checks: Record<string, HealthCheckResult>;
}

/** One running (or runnable) process of an app. */
export interface BlueprintApp {
  /** App name. */
  readonly name: string;
  /** This process's name. */
  readonly process: string;
  /** The process container. */
  readonly container: DependencyContainer;
  /** The validated topology. */
  readonly topology: Topology;
  /** Current state. */
  readonly state: AppState;
  /** URL of the RPC server once started, when this process serves calls. */
  readonly rpcUrl: string | undefined;
  /** URL of the dedicated metrics server (`observability.metrics.port`) once started. */
  readonly metricsUrl: string | undefined;
  /** Logs, metrics and traces of this process (also `resolve(Tokens.Telemetry)`). */
  readonly telemetry: Telemetry;
  /**
   * The Prometheus text of this process's metrics (content type `telemetry.metrics.contentType`), for an
   * HTTP server of the app's own (a gateway) to serve at `GET /metrics`. Empty when metrics are disabled.
   */
  metrics(): Promise<string>;
  /** The client of a contract, as services in this process receive it. */
  client<C extends AnyContract>(contract: C): ClientOf<C>;
  /** Resolves any token from the process container. */
  resolve<T>(token: InjectionToken<T>): T;
  /**
   * Starts plugins, services and the RPC server. Rejects (after stopping what started, as `stop()`
   * would) if one fails; the app is then `failed` and cannot be started again. Call it once.
   */
  start(): Promise<void>;
  /**
   * Drains and stops everything, in reverse order. Safe to call twice, or while `start()` runs (it waits
   * for the start to settle first). Leaves no timer or socket.
   */
  stop(): Promise<void>;
  /** Runs every readiness check. */
  readiness(): Promise<ReadinessReport>;
}

function resolveTopology(app: AppDefinition, options: CreateAppOptions): Topology {
  const { topology } = options;
  const env = options.env ?? process.env;
  if (typeof topology === 'string') return loadTopologyFile(topology, { plugins: app.plugins, env });
  if (isParsedTopology(topology)) return topology;
  return parseTopology(topology, { plugins: app.plugins, env });
}

function isParsedTopology(value: unknown): value is Topology {
  return typeof value === 'object' && value !== null && 'sections' in value && 'baseDir' in value;
}

function pickProcess(topology: Topology, requested: string | undefined): string {
  const names = Object.keys(topology.processes);
  const refuse = (message: string): never => {
    throw new TopologyError(message, {
      details: { source: topology.source, issues: [{ path: 'topology.processes', message }] },
    });
  };
  if (requested === undefined) {
    if (names.length === 1) return names[0]!;
    return refuse(
      `the topology has several processes (${names.join(', ')}); choose one with --process <name> (the \`process\` option of createApp)`,
    );
  }
  if (!Object.hasOwn(topology.processes, requested)) {
    return refuse(`unknown process "${requested}"; the topology has: ${names.join(', ')}`);
  }
  return requested;
}

/**
 * Constructor parameters tsyringe could only fill with `undefined`: neither an `@inject` token nor a
 * type from decorator metadata. Without this check such a class is built with missing dependencies.
 */
function parametersWithoutToken(cls: Constructor): number[] {
  if (cls.length === 0) return [];
  const types = Reflect.getMetadata('design:paramtypes', cls) as readonly unknown[] | undefined;
  const tokens = Reflect.getOwnMetadata('injectionTokens', cls) as Record<number, unknown> | undefined;
  const missing: number[] = [];
  for (let index = 0; index < cls.length; index++) {
    if (tokens?.[index] === undefined && types?.[index] === undefined) missing.push(index);
  }
  return missing;
}

async function runHooks(hooks: readonly LifecycleHook[]): Promise<void> {
  for (const hook of hooks) await hook();
}

/** Runs every hook even when some fail; rethrows the first failure. */
async function runAllHooks(hooks: readonly LifecycleHook[]): Promise<void> {
  let first: unknown;
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

function registerProvider(
  target: DependencyContainer,
  provider: Provider,
  build: (cls: Constructor, resolver: DependencyContainer) => object,
): void {
  if ('useValue' in provider) target.register(provider.token, { useValue: provider.useValue });
  else if ('useClass' in provider) {
    const cls = provider.useClass as Constructor;
    target.register(provider.token, { useFactory: instanceCachingFactory((c) => build(cls, c)) });
  } else {
    const factory = provider.useFactory;
    target.register(provider.token, {
      useFactory: instanceCachingFactory((c) => factory(<R>(token: InjectionToken<R>) => c.resolve(token))),
    });
  }
}

/**
 * Builds one process of `app` as the topology places it.
 *
 * @example
 * const shop = await createApp(app, { topology: 'topology/monolith.json' });
 * await shop.start();
 * const order = await shop.client(Orders).place({ productId: 'p1', quantity: 2 });
 * await shop.stop();
 */
export async function createApp(app: AppDefinition, options: CreateAppOptions): Promise<BlueprintApp> {
  const topology = resolveTopology(app, options);
  checkTopologyAgainstApp(topology, app);
  const processName = pickProcess(topology, options.process);
  const processTopology = topology.processes[processName]!;
  const processInfo = Object.freeze({ ...processTopology, name: processName });
  const hosted = new Set(processTopology.services);

  const telemetry = createTelemetry({
    app: app.name,
    process: processName,
    config: topology.observability,
    env: options.env,
    logDestination: options.logDestination,
  });
  const root = globalContainer.createChildContainer();
  const processContainer = root.createChildContainer();
  processContainer.register(Tokens.App, { useValue: app });
  processContainer.register(Tokens.Topology, { useValue: topology });
  processContainer.register(Tokens.Process, { useValue: processInfo });
  processContainer.register(Tokens.Codec, { useValue: jsonCodec });
  processContainer.register(Tokens.Settings, { useValue: topology.settings });
  processContainer.register(Tokens.Telemetry, { useValue: telemetry });

  const interceptors: MethodInterceptor[] = [];
  const healthChecks = new Map<string, HealthCheck>();
  const health: HealthRegistry = {
    add(name, check) {
      if (healthChecks.has(name)) throw new AppDefinitionError(`two readiness checks are named "${name}"`);
      healthChecks.set(name, check);
    },
    readiness: () => readiness(),
  };
  processContainer.register(Tokens.Health, { useValue: health });
  const hooks = {
    start: [] as LifecycleHook[],
    ready: [] as LifecycleHook[],
    drain: [] as LifecycleHook[],
    stop: [] as LifecycleHook[],
  };
  const created: object[] = [];
  const hostedInstances = new Map<string, object>();

  const hostedServices = (): HostedService[] =>
    app.services
      .filter((s) => hosted.has(s.contract.name))
      .map((s) => ({ contract: s.contract, instance: hostedInstances.get(s.contract.name)! }))
      .filter((s) => s.instance !== undefined);

  for (const plugin of app.plugins) {
    const context: PluginContext = {
      app,
      topology,
      process: processInfo,
      config: plugin.section ? topology.sections[plugin.section.key] : undefined,
      container: processContainer,
      telemetry,
      addInterceptor: (interceptor) => interceptors.push(interceptor),
      addHealthCheck: (name, check) => health.add(name, check),
      onStart: (hook) => hooks.start.push(hook),
      onReady: (hook) => hooks.ready.push(hook),
      onDrain: (hook) => hooks.drain.push(hook),
      onStop: (hook) => hooks.stop.push(hook),
      hostedServices,
    };
    await plugin.setup(context);
  }

  const construct = (
    cls: Constructor,
    resolver: DependencyContainer,
    describe: { kind: 'local' | 'provider'; contract?: AnyContract },
  ) => {
    const unnamed = parametersWithoutToken(cls);
    if (unnamed.length > 0) {
      throw new AppDefinitionError(
        `cannot create ${cls.name}: constructor parameter(s) ${unnamed.map((i) => `#${i}`).join(', ')} have no @inject(TOKEN) and no decorator metadata names their type (tsx and esbuild emit none); add @inject(TOKEN) to each`,
      );
    }
    let instance: object;
    try {
      instance = resolver.resolve(cls);
    } catch (error) {
      throw new AppDefinitionError(
        `cannot create ${cls.name}: ${(error as Error).message}. Mark the class @injectable() and give every constructor parameter an explicit @inject(TOKEN)`,
        { cause: error },
      );
    }
    if (describe.contract !== undefined) {
      const missing = describe.contract.methodNames.filter(
        (method) => typeof (instance as Record<string, unknown>)[method] !== 'function',
      );
      if (missing.length > 0) {
        throw new AppDefinitionError(
          `${cls.name} does not implement ${missing.map((m) => `${describe.contract!.name}.${m}`).join(', ')}; add the method(s) to the class`,
        );
      }
    }
    applyInterceptors(instance, interceptors, { ...describe, process: processName });
    created.push(instance);
    return instance;
  };

  for (const provider of app.providers) {
    registerProvider(processContainer, provider, (cls, c) => construct(cls, c, { kind: 'provider' }));
  }

  const rpc = topology.rpc;
  const localOptions = {
    serialize: rpc.serialize,
    validateInput: rpc.validate.input,
    validateOutput: rpc.validate.output,
    codec: jsonCodec,
  };
  const rpcClients = new Map<string, RpcClient>();
  const errorsByService = new Map(app.services.map((s) => [s.contract.name, s.contract.errors]));
  const owner = new Map<string, string>();
  for (const [name, p] of Object.entries(topology.processes)) for (const s of p.services) owner.set(s, name);

  const rpcClientFor = (remoteProcess: string): RpcClient => {
    const existing = rpcClients.get(remoteProcess);
    if (existing) return existing;
    if (rpc.type !== 'http') {
      throw new TopologyError(`rpc "${rpc.type}" cannot reach process "${remoteProcess}"; use "http"`);
    }
    const url = options.addresses?.[remoteProcess] ?? topology.processes[remoteProcess]!.address;
    if (url === undefined) {
      throw new TopologyError(
        `topology.processes.${remoteProcess}.address is missing; add the URL other processes call`,
      );
    }
    const transport = createHttpRpcClient({
      url,
      timeout: rpc.timeout,
      connections: rpc.connections,
      keepAliveTimeout: rpc.keepAliveTimeout,
      bodyLimit: rpc.bodyLimit,
      errorsFor: (service) => errorsByService.get(service) ?? [],
    });
    const client = instrumentRpcClient(transport, telemetry, url);
    rpcClients.set(remoteProcess, client);
    return client;
  };

  for (const registration of app.services) {
    const { contract, implementation } = registration;
    if (hosted.has(contract.name)) {
      processContainer.register(contract.token, {
        useFactory: instanceCachingFactory((c) => {
          const instance = construct(implementation as Constructor, c, { kind: 'local', contract });
          hostedInstances.set(contract.name, instance);
          return createLocalClient(contract, instance, localOptions) as ClientOf<typeof contract>;
        }),
      });
    } else {
      const remoteProcess = owner.get(contract.name)!;
      processContainer.register(contract.token, {
        useFactory: instanceCachingFactory(() => {
          const client = createRemoteClient(contract, rpcClientFor(remoteProcess));
          applyInterceptors(client, interceptors, {
            kind: 'remote',
            contract,
            process: processName,
            className: `${contract.name}Client`,
          });
          return client as ClientOf<typeof contract>;
        }),
      });
      if (contract.methodNames.length > 0 && rpc.type === 'http') {
        healthChecks.set(`rpc:${contract.name}`, () => rpcClientFor(remoteProcess).ping());
      }
    }
  }

  for (const provider of options.overrides ?? []) {
    registerProvider(processContainer, provider, (cls, c) => construct(cls, c, { kind: 'provider' }));
  }

  const readiness = async (): Promise<ReadinessReport> => {
    const checks: Record<string, HealthCheckResult> = {};
    await Promise.all(
      [...healthChecks].map(async ([name, check]) => {
        try {
          checks[name] = await check();
        } catch (error) {
          checks[name] = { ok: false, details: { error: (error as Error).message } };
        }
      }),
    );
    return { ok: state === 'started' && Object.values(checks).every((c) => c.ok), checks };
  };

  const servesCalls =
    rpc.type === 'http' &&
    (processTopology.address !== undefined ||
      processTopology.listen !== undefined ||
      options.listen !== undefined) &&
    app.services.some((s) => hosted.has(s.contract.name) && s.contract.methodNames.length > 0);
  let server: RpcServer | undefined;
  let metricsServer: MetricsServer | undefined;
  const configuredPort = topology.observability?.metrics.port;
  const metricsPort = typeof configuredPort === 'object' ? configuredPort[processName] : configuredPort;
  const servesMetrics = telemetry.metrics.enabled;
  const metricsBody = async () => ({
    contentType: telemetry.metrics.contentType,
    text: await telemetry.metrics.text(),
  });
  let state: AppState = 'created';
  const startedServices: object[] = [];
  let stopping: Promise<void> | undefined;

  let starting: Promise<void> | undefined;

  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      state = 'stopping';
      const errors: unknown[] = [];
      const attempt = async (step: () => Promise<void>) => {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      };
      await attempt(async () => server?.close(topology.shutdownTimeout));
      await attempt(() => runAllHooks([...hooks.drain].reverse()));
      const stopHooks = [...startedServices]
        .reverse()
        .filter(
          (i): i is { onStop(): Promise<void> } => typeof (i as { onStop?: unknown }).onStop === 'function',
        )
        .map((i) => () => i.onStop());
      await attempt(() => runAllHooks(stopHooks));
      await attempt(() => runAllHooks([...hooks.stop].reverse()));
      await attempt(() => runAllHooks([...rpcClients.values()].map((c) => () => c.close())));
      await attempt(async () => metricsServer?.close());
      state = 'stopped';
      if (errors.length > 0) throw errors[0];
    })();
    return stopping;
  };

  const stop = async (): Promise<void> => {
    if (state === 'created') {
      state = 'stopped';
      stopping = runAllHooks([...rpcClients.values()].map((c) => () => c.close()));
    }
    if (starting !== undefined) await starting.catch(() => undefined);
    return shutdown();
  };

  const start = (): Promise<void> => {
    if (state !== 'created') {
      return Promise.reject(
        new AppDefinitionError(`cannot start process "${processName}" in state "${state}"; create a new app`),
      );
    }
    state = 'starting';
    starting = (async () => {
      try {
        if (metricsPort !== undefined && servesMetrics) {
          metricsServer = await startMetricsServer({
            host: topology.observability?.metrics.host,
            port: metricsPort,
            metrics: metricsBody,
            readiness,
          });
        }
        await runHooks(hooks.start);
        for (const provider of app.providers)
          if ('useClass' in provider) processContainer.resolve(provider.token);
        for (const registration of app.services) {
          if (hosted.has(registration.contract.name)) processContainer.resolve(registration.contract.token);
        }
        for (const instance of [...created]) {
          startedServices.push(instance);
          const onStart = (instance as { onStart?: () => unknown }).onStart;
          if (typeof onStart === 'function') await onStart.call(instance);
        }
        if (servesCalls && rpc.type === 'http') {
          const address = processTopology.address ? new URL(processTopology.address) : undefined;
          const dispatcher = instrumentDispatcher(
            createDispatcher(
              hostedServices().map((h) => ({ contract: h.contract, instance: () => h.instance })),
              readiness,
            ),
            telemetry,
            () => server?.url,
          );
          server = await startHttpRpcServer({
            dispatcher,
            onRefused: (refusal) => dispatcher.refused(refusal),
            metrics: servesMetrics ? metricsBody : undefined,
            host:
              options.listen?.host ??
              processTopology.listen?.host ??
              address?.hostname.replace(/^\[(.*)\]$/, '$1') ??
              '127.0.0.1',
            port: options.listen?.port ?? processTopology.listen?.port ?? Number(address?.port || 0),
            bodyLimit: rpc.bodyLimit,
            keepAliveTimeout: rpc.keepAliveTimeout,
          });
        }
        state = 'started';
        await runHooks(hooks.ready);
      } catch (error) {
        await shutdown().catch(() => undefined);
        state = 'failed';
        throw error;
      }
    })();
    return starting;
  };

  return {
    name: app.name,
    process: processName,
    container: processContainer,
    topology,
    get state() {
      return state;
    },
    get rpcUrl() {
      return server?.url;
    },
    get metricsUrl() {
      return metricsServer?.url;
    },
    telemetry,
    metrics: () => telemetry.metrics.text(),
    client: <C extends AnyContract>(contract: C) => processContainer.resolve(contract.token) as ClientOf<C>,
    resolve: <T>(token: InjectionToken<T>) => processContainer.resolve(token),
    start,
    stop,
    readiness,
  };
}
