/**
 * Plugins: how `@blueprint/cache`, `@blueprint/events`, `@blueprint/resilience` (and your own
 * packages) join an app. Core knows plugins, not caches or buses.
 *
 * A plugin may own a topology section (validated by its zod schema), register providers in the
 * process container, add links to the call chain, add RPC drivers, and hook into the lifecycle:
 *
 * ```
 * start: plugin.onStart (plugin order) → hosted services created → service.onStart (creation order)
 *        → RPC server listens → plugin.onReady
 * stop:  RPC server drains → plugin.onDrain (reverse) → service.onStop (reverse) → plugin.onStop (reverse)
 *        → RPC clients close
 * ```
 */
import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { DashboardSection } from '../app/dashboard-sections.js';
import type { HealthCheck, HealthCheckOptions } from '../app/health.js';
import type { Link } from '../chain/link.js';
import type { AnyContract } from '../contract.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { RpcDriver } from '../rpc/types.js';
import type { Provider, ServiceRegistration } from '../service.js';
import type { ProcessTopology, Topology, TopologyIssue } from '../topology.js';

/** A service hosted in this process, as plugins see it once it is created. */
export interface HostedService {
  /** The contract. */
  readonly contract: AnyContract;
  /** The implementation instance, its decorators applied (the `method` side of the call chain). */
  readonly instance: object;
}

/** A lifecycle hook. */
export type LifecycleHook = () => Promise<void> | void;

/** What a plugin is told about the app: the same object in every topology. */
export interface PluginAppView {
  /** App name. */
  readonly name: string;
  /** The services. */
  readonly services: readonly ServiceRegistration[];
  /** The providers. */
  readonly providers: readonly Provider[];
}

/** What a plugin receives in `setup`. */
export interface PluginContext<Config = unknown> {
  /** The app definition. */
  readonly app: PluginAppView;
  /** The validated topology. */
  readonly topology: Topology;
  /** This process: its name and the services it hosts. */
  readonly process: ProcessTopology & { readonly name: string };
  /** The plugin's own topology section, parsed by its schema; undefined when the topology has none. */
  readonly config: Config | undefined;
  /** The process container. Register providers here. */
  readonly container: DependencyContainer;
  /**
   * Logs, metrics and traces of this process (also registered as `CoreTokens.Telemetry`): a child logger
   * per component, get-or-create metrics by name, spans and `traceparent` propagation.
   */
  readonly telemetry: Telemetry;
  /** Adds a link to the call chain of every method this process builds a chain for. */
  addLink(link: Link): void;
  /**
   * Adds a readiness check, reported by `app.readiness()` under `name`. A check of something the
   * process calls (a remote service, a breaker) is `{ kind: "dependency" }`: reported, but it does not
   * take the process out of rotation unless the topology says `"readiness": { "dependencies": "required" }`.
   */
  addHealthCheck(name: string, check: HealthCheck, options?: HealthCheckOptions): void;
  /**
   * Adds a section to the development dashboard, served by the admin listener at
   * `GET /dashboard/sections/NAME` (its `read()`) and `POST /dashboard/sections/NAME/ACTION` (its
   * actions), behind the admin token. The events plugin adds `events`, the cache plugin `cache`.
   */
  addDashboardSection(name: string, section: DashboardSection): void;
  /** Runs after connections may be opened, before services are created. */
  onStart(hook: LifecycleHook): void;
  /** Runs once the process accepts calls. */
  onReady(hook: LifecycleHook): void;
  /** Runs first on stop, after the RPC server drained: stop taking new work and finish what runs. */
  onDrain(hook: LifecycleHook): void;
  /** Runs last on stop, after services stopped: close connections and timers. */
  onStop(hook: LifecycleHook): void;
  /**
   * The services hosted in this process, with their decorators applied. Filled when the services are
   * created (after the plugins' `onStart` hooks): read it in `onReady` (e.g. to subscribe event handlers).
   */
  hostedServices(): readonly HostedService[];
}

/**
 * A plugin. `section` names its topology key and schema; `setup` is called once per process by
 * `createApp`, before any service is created.
 *
 * @example
 * export const audit = (): Plugin => ({
 *   name: 'audit',
 *   setup(ctx) { ctx.addLink(auditLink); },
 * });
 */
export interface Plugin<Config = any> {
  /** Unique name. */
  readonly name: string;
  /** The topology section this plugin owns. */
  readonly section?: {
    /** Top-level key in the topology file (e.g. `"cache"`). */
    readonly key: string;
    /** Strict zod schema of the section. */
    readonly schema: z.ZodType<Config>;
    /** Keys that were renamed, old → new, so old topology files get an error naming the new key. */
    readonly renamedKeys?: Readonly<Record<string, string>>;
    /**
     * Checks the parsed section against the app (names of services and methods it mentions, ...). Its
     * issues join the topology's own in one report, before any process is built. Default: none.
     */
    readonly check?: (config: Config, app: PluginAppView) => readonly TopologyIssue[];
  };
  /** RPC drivers this plugin adds to the `rpc` section's choices. Default: none. */
  readonly rpcDrivers?: readonly RpcDriver[];
  /** Wires the plugin into one process. */
  setup(context: PluginContext<Config>): void | Promise<void>;
  /**
   * Describes what the plugin adds to the app's graph, for `blueprint graph` (no process is built and
   * nothing is started): e.g. the events plugin lists each event with its publishing and subscribing
   * services.
   */
  describe?(app: PluginAppView): PluginDescription;
}

/** What a plugin adds to the app's graph. */
export interface PluginDescription {
  /** Events between services: each event with the services that publish it and those that handle it. */
  readonly events?: readonly EventDescription[];
}

/** One event in a {@link PluginDescription}. */
export interface EventDescription {
  /** Event name, e.g. `order.placed`. */
  readonly event: string;
  /** Services that publish it, when known. Default: unknown (drawn without a source). */
  readonly publishers?: readonly string[];
  /** Services with a handler for it. */
  readonly subscribers: readonly string[];
}

/** Identity helper that types a plugin definition. */
export function definePlugin<Config>(plugin: Plugin<Config>): Plugin<Config> {
  return plugin;
}
