/**
 * The graph of an app as a topology places it: services, the process hosting each, the calls between
 * services (read from the contract tokens their constructors inject) and the events between them (from
 * the plugins' `describe` hooks). Nothing is created or started.
 */
import 'reflect-metadata';
import { contractsReachedBy } from '../app/dependencies.js';
import type { AppDefinition } from '../app.js';
import type { Provider } from '../service.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { Topology } from '../topology.js';

/** A process of the graph. */
export interface GraphProcess {
  /** Process name. */
  readonly name: string;
  /** Services it hosts, in topology order. */
  readonly services: readonly string[];
  /** Its RPC address, if any (the first replica's when it has several). */
  readonly address: string | undefined;
  /** The address of each replica (one entry for a single instance, none without an address). */
  readonly addresses: readonly string[];
}

/** A service of the graph. */
export interface GraphService {
  /** Service name. */
  readonly name: string;
  /** The process hosting it. */
  readonly process: string;
  /** Contract methods. */
  readonly methods: readonly string[];
}

/** Calls measured from one process to one service (from `blueprint_rpc_client_requests_total`). */
export interface MeasuredCalls {
  /** Calls counted (all methods and codes). */
  readonly calls: number;
  /** Calls that ended with an error code. */
  readonly errors: number;
  /**
   * Calls per second: over the sampling window with `--sample`, else averaged since the calling process
   * started (when it exports `process_start_time_seconds`).
   */
  readonly perSecond: number | undefined;
  /** How `perSecond` was computed. */
  readonly rateKind: 'sampled' | 'since-start' | undefined;
}

/** A call edge: `from` injects the contract of `to`. */
export interface CallEdge {
  /** Calling service. */
  readonly from: string;
  /** Called service. */
  readonly to: string;
  /** True when the two services run in different processes. */
  readonly remote: boolean;
  /** Providers through which `from` reaches `to` (`[]` when its own constructor injects it). */
  readonly via: readonly string[];
  /**
   * Measured calls from `from`'s process to `to` (set by `--metrics`). Metrics count by calling process,
   * not by calling service: when several services of one process call `to`, each edge shows the process's
   * total and `sharedWith` names the others.
   */
  readonly measured?: MeasuredCalls;
  /** Other services of the same process that call `to` (their calls are in the same measurement). */
  readonly sharedWith?: readonly string[];
}

/** Calls measured from one process to a service in another process. */
export interface Traffic {
  /** Calling process. */
  readonly process: string;
  /** Called service. */
  readonly to: string;
  /** The process hosting the called service. */
  readonly toProcess: string;
  /**
   * Services of the calling process that inject the called contract; empty when none does (calls made by
   * code that resolves clients itself, e.g. `app.client(...)` in an HTTP handler).
   */
  readonly callers: readonly string[];
  /** The measurement. */
  readonly measured: MeasuredCalls;
}

/** An event edge: `from` publishes `event`, `to` handles it. */
export interface EventEdge {
  /** Event name. */
  readonly event: string;
  /** Publishing service; undefined when the plugin does not know it. */
  readonly from: string | undefined;
  /** Handling service. */
  readonly to: string;
  /** True when publisher and handler run in different processes (false when the publisher is unknown). */
  readonly remote: boolean;
}

/** The graph of an app under one topology. */
export interface AppGraph {
  /** App name. */
  readonly app: string;
  /** Where the topology came from. */
  readonly source: string;
  /** Processes, in topology order. */
  readonly processes: readonly GraphProcess[];
  /** Services, in app order. */
  readonly services: readonly GraphService[];
  /** Calls between services. */
  readonly calls: readonly CallEdge[];
  /** Events between services. */
  readonly events: readonly EventEdge[];
  /** Measured calls between processes, most calls first (set by `--metrics`). */
  readonly traffic: readonly Traffic[];
  /** True when `--metrics` annotated the graph. */
  readonly measured: boolean;
}

/**
 * Builds the graph of `app` placed by `topology`. Calls come from the contract tokens injected by each
 * implementation's constructor (and by the class providers it injects); events from each plugin's
 * `describe(app)`.
 */
export function buildGraph(app: AppDefinition, topology: Topology): AppGraph {
  const processOf = new Map<string, string>();
  const processes: GraphProcess[] = Object.entries(topology.processes).map(([name, p]) => {
    for (const service of p.services) processOf.set(service, name);
    return { name, services: [...p.services], address: p.address, addresses: replicaAddresses(p) };
  });
  const services: GraphService[] = app.services.map((s) => ({
    name: s.contract.name,
    process: processOf.get(s.contract.name) ?? '?',
    methods: [...s.contract.methodNames],
  }));
  const providers = new Map<unknown, Provider>(app.providers.map((p) => [p.token, p]));
  const known = new Set(services.map((s) => s.name));
  const remote = (a: string, b: string) => processOf.get(a) !== processOf.get(b);

  const calls: CallEdge[] = [];
  for (const registration of app.services) {
    const from = registration.contract.name;
    for (const [to, via] of contractsReachedBy(registration.implementation, providers)) {
      if (to === from || !known.has(to)) continue;
      calls.push({ from, to, remote: remote(from, to), via });
    }
  }

  const events: EventEdge[] = [];
  const declaredPublishers = (event: string) =>
    app.services.filter((s) => s.contract.publishes.includes(event)).map((s) => s.contract.name);
  for (const plugin of app.plugins) {
    for (const description of plugin.describe?.(app).events ?? []) {
      const publishers = description.publishers ?? declaredPublishers(description.event);
      for (const to of description.subscribers) {
        if (publishers.length === 0) {
          events.push({ event: description.event, from: undefined, to, remote: false });
          continue;
        }
        for (const from of publishers) {
          events.push({ event: description.event, from, to, remote: remote(from, to) });
        }
      }
    }
  }

  return {
    app: app.name,
    source: topology.source,
    processes,
    services,
    calls,
    events,
    traffic: [],
    measured: false,
  };
}
