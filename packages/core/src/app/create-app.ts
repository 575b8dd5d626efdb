/**
 * `createApp` builds one process of an app from a topology. It is the composition root: placement,
 * wiring, hosting, health, servers and the lifecycle are named modules it calls.
 */
import 'reflect-metadata';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { AppDefinition } from '../app.js';
import { servedMethods } from '../chain/contract-chains.js';
import { type Link, orderLinks } from '../chain/link.js';
import { createCallObservers } from '../chain/observability-link.js';
import type { AnyContract, ClientOf } from '../contract.js';
import { processVersionGuard } from '../contracts/process-guard.js';
import { adminDashboardRoutes } from '../dashboard/admin-dashboard.js';
import type { LogDestination } from '../observability/logger.js';
import { refusalRecorder } from '../observability/refusals.js';
import type { SpanRecorder } from '../observability/span-recorder.js';
import { createTelemetry, type Telemetry } from '../observability/telemetry.js';
import { createDispatcher } from '../rpc/dispatcher.js';
import { readTlsMaterial } from '../rpc/http/tls.js';
import type { RpcDispatcher, RpcTransport } from '../rpc/types.js';
import type { Provider } from '../service.js';
import type { Topology } from '../topology.js';
import { driverFor, driverOptions } from '../transport/drivers.js';
import { checkDeclaredDependencies } from './app-checks.js';
import { coreLinks } from './core-links.js';
import { createDashboardSections } from './dashboard-sections.js';
import { createHealthRegistry, type ReadinessReport } from './health.js';
import { HostedServices } from './hosted-services.js';
import { Instances } from './instances.js';
import { type AppState, createLifecycle, LifecycleHooks } from './lifecycle.js';
import {
  checkReplica,
  checkTopologyAgainstApp,
  type Placement,
  pickProcess,
  placementOf,
} from './placement.js';
import { setupPlugins } from './plugins.js';
import { RemoteProcesses } from './remote-processes.js';
import { Servers } from './servers.js';
import { type ProcessParts, readySteps, startSteps, stopSteps } from './steps.js';
import { resolveTopology, rpcDriversOf } from './topology-source.js';
import { createProcessContainer, registerContractClients, registerProviders } from './wiring.js';

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
  /**
   * Which replica of its process this one is, 0-based (`blueprint start --replica`): it listens at that
   * replica's address. Default: 0.
   */
  readonly replica?: number;
  /** Overrides the address of remote processes by name (tests that bind port 0). */
  readonly addresses?: Readonly<Record<string, string>>;
  /** Extra registrations applied last, e.g. test doubles: `[{ token, useValue }]`. */
  readonly overrides?: readonly Provider[];
  /**
   * Where the process's log lines go (one JSON line per `write`), e.g. an array in a test:
   * `{ write: (line) => lines.push(JSON.parse(line)) }`. Default: standard output.
   */
  readonly logDestination?: LogDestination;
  /**
   * The recent spans the admin listener serves at `GET /dashboard/spans` for the dashboard (`blueprint dev`
   * installs an in-memory tracer and passes its recorder). Default: none (the route answers 404).
   */
  readonly spans?: SpanRecorder | undefined;
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
  /** URL of the admin listener (`admin.port`: `/metrics`, `/health/*`) once started. */
  readonly adminUrl: string | undefined;
  /** Logs, metrics and traces of this process (also `resolve(CoreTokens.Telemetry)`). */
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
  const topology = resolveTopology(app, options.topology, options.env);
  checkDeclaredDependencies(app);
  checkTopologyAgainstApp(topology, app, options.addresses);
  const placement = placementOf(topology, pickProcess(topology, options.process));
  checkReplica(topology, placement.process, options.replica);
  const processInfo = Object.freeze({ ...placement.processTopology, name: placement.process });
  const telemetry = createTelemetry({
    app: app.name,
    process: placement.process,
    config: topology.observability,
    env: options.env,
    logDestination: options.logDestination,
  });
  let state = (): AppState => 'created';
  const health = createHealthRegistry(
    () => state() === 'started',
    topology.readiness?.dependencies === 'required',
  );
  const dashboard = createDashboardSections();
  const container = createProcessContainer({ app, topology, process: processInfo, telemetry, health });
  const hooks = new LifecycleHooks();
  const transport = await createTransport(app, topology, placement.process);
  const versions = transport.crossesProcesses
    ? processVersionGuard(
        app,
        topology,
        placement.process,
        telemetry.logger.child({ component: 'contracts' }),
      )
    : undefined;
  const remote = new RemoteProcesses(app, topology, transport, options.addresses, versions);
  const observers = createCallObservers(telemetry);
  let servers: Servers | undefined;
  const links: Link[] = coreLinks({
    topology,
    telemetry,
    observers,
    addressOf: (service) => remote.addressOf(placement.ownerOf(service)),
    serverUrl: () => servers?.rpcUrl,
    process: placement.process,
    ownerOf: (service) => placement.ownerOf(service),
    replicaSetOf: (service) => remote.replicaSetOf(placement.ownerOf(service)),
  });
  let chain: readonly Link[] | undefined;
  const ordered = () => (chain ??= orderLinks(links));
  const instances = new Instances(ordered, placement.process);
  const hosted = new HostedServices(app, placement, container, instances);
  await setupPlugins({
    app,
    topology,
    process: processInfo,
    container,
    telemetry,
    health,
    dashboard,
    hooks,
    links,
    hosted,
  });
  registerProviders(container, app.providers, instances);
  const { crossesProcesses } = transport;
  registerContractClients(container, {
    app,
    placement,
    links: ordered,
    hosted,
    remote,
    health,
    crossesProcesses,
  });
  registerProviders(container, options.overrides ?? [], instances);
  const dispatcher = lazyDispatcher(placement, hosted, ordered);
  servers = new Servers({
    topology,
    placement,
    hosted,
    transport,
    telemetry,
    readiness: () => health.readiness(),
    listen: options.listen,
    replica: options.replica,
    dispatcher,
    onRefused: refusalRecorder(telemetry, observers, dispatcher),
    dashboard: {
      app: app.name,
      sections: dashboard,
      spans: options.spans,
      page: topology.admin?.dashboard === true ? adminDashboardRoutes(app, topology) : undefined,
    },
  });
  const parts: ProcessParts = {
    app,
    topology,
    container,
    hosted,
    instances,
    hooks,
    servers,
    remote,
    started: [],
  };
  const lifecycle = createLifecycle(placement.process, {
    start: () => startSteps(parts),
    ready: () => readySteps(parts),
    stop: () => stopSteps(parts),
    abandon: () => remote.closeAll(),
    drainDelay: topology.drainDelay,
  });
  state = () => lifecycle.state;
  return processHandle({ app, placement, container, topology, telemetry, servers, health, lifecycle });
}

/** The RPC transport the topology's `rpc` section selects. */
async function createTransport(
  app: AppDefinition,
  topology: Topology,
  process: string,
): Promise<RpcTransport> {
  const driver = driverFor(rpcDriversOf(app), topology.rpc.type);
  const tls = await readTlsMaterial(topology, process);
  return driver.create(driverOptions(driver, topology.rpc), { appName: app.name, process, tls });
}

/** The dispatcher over the hosted services' `serve` chains, built when the RPC server first needs it. */
function lazyDispatcher(
  placement: Placement,
  hosted: HostedServices,
  links: () => readonly Link[],
): () => RpcDispatcher {
  let dispatcher: RpcDispatcher | undefined;
  return () =>
    (dispatcher ??= createDispatcher(
      hosted.contracts.map((contract) => ({
        contract,
        methods: servedMethods(
          links(),
          { process: placement.process },
          contract,
          hosted.instanceOf(contract),
        ),
      })),
    ));
}

interface HandleParts {
  readonly app: AppDefinition;
  readonly placement: Placement;
  readonly container: DependencyContainer;
  readonly topology: Topology;
  readonly telemetry: Telemetry;
  readonly servers: Servers;
  readonly health: ReturnType<typeof createHealthRegistry>;
  readonly lifecycle: ReturnType<typeof createLifecycle>;
}

function processHandle(parts: HandleParts): BlueprintApp {
  const { container, servers, lifecycle, telemetry } = parts;
  return {
    name: parts.app.name,
    process: parts.placement.process,
    container,
    topology: parts.topology,
    get state() {
      return lifecycle.state;
    },
    get rpcUrl() {
      return servers.rpcUrl;
    },
    get adminUrl() {
      return servers.adminUrl;
    },
    telemetry,
    metrics: () => telemetry.metrics.text(),
    client: <C extends AnyContract>(contract: C) => container.resolve(contract.token) as ClientOf<C>,
    resolve: <T>(token: InjectionToken<T>) => container.resolve(token),
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
    readiness: () => parts.health.readiness(),
  };
}
