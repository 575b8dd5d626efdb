/**
 * Plugins: how `@blueprint/cache`, `@blueprint/events`, `@blueprint/resilience` (and your own
 * packages) join an app. Core knows plugins, not caches or buses.
 *
 * A plugin may own a topology section (validated by its zod schema), register providers in the
 * process container, add method interceptors, and hook into the lifecycle:
 *
 * ```
 * start: plugin.onStart (plugin order) → service.onStart (creation order) → RPC server listens → plugin.onReady
 * stop:  RPC server drains → plugin.onDrain (reverse) → service.onStop (reverse) → plugin.onStop (reverse) → RPC clients close
 * ```
 */
import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { AppDefinition } from './app.js';
import type { AnyContract } from './contract.js';
import type { MethodInterceptor } from './interceptors.js';
import type { Telemetry } from './observability/telemetry.js';
import type { ProcessTopology, Topology } from './topology.js';

/** What a readiness check reports. */
export interface HealthCheckResult {
  /** True when the dependency answers. */
  readonly ok: boolean;
  /** Short JSON-safe facts for operators (state, latency, error code). */
  readonly details?: unknown;
}

/** A readiness check for one dependency; it should answer within a second. */
export type HealthCheck = () => Promise<HealthCheckResult> | HealthCheckResult;

/** A service hosted in this process, as plugins see it once the app has started. */
export interface HostedService {
  /** The contract. */
  readonly contract: AnyContract;
  /** The implementation instance (with interceptors applied). */
  readonly instance: object;
}

/** A lifecycle hook. */
export type LifecycleHook = () => Promise<void> | void;

/** What a plugin receives in `setup`. */
export interface PluginContext<Config = unknown> {
  /** The app definition. */
  readonly app: AppDefinition;
  /** The validated topology. */
  readonly topology: Topology;
  /** This process: its name and the services it hosts. */
  readonly process: ProcessTopology & { readonly name: string };
  /** The plugin's own topology section, parsed by its schema; undefined when the topology has none. */
  readonly config: Config | undefined;
  /** The process container. Register providers here. */
  readonly container: DependencyContainer;
  /**
   * Logs, metrics and traces of this process (also registered as `Tokens.Telemetry`): a child logger per
   * component, get-or-create metrics by name, spans and `traceparent` propagation.
   */
  readonly telemetry: Telemetry;
  /** Adds a method interceptor for the instances this process creates. */
  addInterceptor(interceptor: MethodInterceptor): void;
  /** Adds a readiness check, reported by `app.readiness()` under `name`. */
  addHealthCheck(name: string, check: HealthCheck): void;
  /** Runs after connections may be opened, before services start. */
  onStart(hook: LifecycleHook): void;
  /** Runs once the process accepts calls. */
  onReady(hook: LifecycleHook): void;
  /** Runs first on stop, after the RPC server drained: stop taking new work and finish what runs. */
  onDrain(hook: LifecycleHook): void;
  /** Runs last on stop, after services stopped: close connections and timers. */
  onStop(hook: LifecycleHook): void;
  /**
   * The services hosted in this process, with interceptors applied. Filled while services are created
   * (after the plugins' `onStart` hooks): read it in `onReady` (e.g. to subscribe event handlers).
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
 *   setup(ctx) { ctx.addInterceptor(auditInterceptor); },
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
  };
  /** Wires the plugin into one process. */
  setup(context: PluginContext<Config>): void | Promise<void>;
  /**
   * Describes what the plugin adds to the app's graph, for `blueprint graph` (no process is built and
   * nothing is started): e.g. the events plugin lists each event with its publishing and subscribing
   * services.
   */
  describe?(app: AppDefinition): PluginDescription;
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
