// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the topology's own ${VAR} syntax
/**
 * The deployment plan: what runs where, as a pure function of the app and its validated topology.
 * `blueprint dev` starts its units on a laptop; `blueprint export` renders it as a Dockerfile, a
 * Compose file and Kubernetes manifests, so every target runs the same processes with the same
 * commands, ports, probes and drain timing.
 */
import path from 'node:path';
import { declaredCalls } from '../app/app-checks.js';
import type { AppDefinition } from '../app.js';
import { STOP_MARGIN_MS } from '../cli/start-command.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { ProcessTopology, Topology, TopologyIssue } from '../topology.js';
import { type BackingService, backingServices } from './backing-services.js';
import { type PlanVariable, topologyVariables, wholeReference, writtenSecretIssues } from './variables.js';

/** A port a process listens on. */
export interface PortPlan {
  /** Its name in manifests (`rpc`, `admin`, `http`, ...), at most 15 characters. */
  readonly name: string;
  /** The port number. */
  readonly port: number;
}

/** A public port of the app itself (its HTTP API), named by a setting. */
export interface PublicPortPlan extends PortPlan {
  /** The setting that names it, e.g. `port`. */
  readonly setting: string;
  /** The variable the setting reads, e.g. `PORT`, if it reads one. */
  readonly variable: string | undefined;
}

/** How an orchestrator asks a process whether it is alive and ready. */
export interface ProbePlan {
  /** `admin`: the admin listener (full checks); `rpc`: the RPC port's bare status. */
  readonly listener: 'admin' | 'rpc';
  /** The port asked. */
  readonly port: number;
  /** `HTTP`, or `HTTPS` for an `https://` RPC address. */
  readonly scheme: 'HTTP' | 'HTTPS';
  /** Liveness: `/health/live`. */
  readonly live: string;
  /** Readiness and startup: `/health/ready`. */
  readonly ready: string;
}

/** One child of `blueprint dev`: a process, or one replica of it. */
export interface UnitPlan {
  /** The name its log lines are prefixed with: `products`, or `products.1` for a second replica. */
  readonly name: string;
  /** The replica index, when the process has several replicas. */
  readonly replica: number | undefined;
  /** The command: `blueprint start --topology FILE --process NAME [--replica N]`. */
  readonly command: readonly string[];
}

/** A process of the plan. */
export interface ProcessPlan {
  /** Its name in the topology. */
  readonly name: string;
  /** The services it hosts. */
  readonly services: readonly string[];
  /** How many replicas run: `addresses`, `replicas`, or 1. */
  readonly replicas: number;
  /** The command every replica runs (without `--replica`). */
  readonly command: readonly string[];
  /** The units `blueprint dev` starts: one per replica. */
  readonly units: readonly UnitPlan[];
  /** The ports it listens on. */
  readonly ports: {
    /** Where its RPC server listens (a process other processes call). */
    readonly rpc: PortPlan | undefined;
    /** Its admin listener (`/metrics`, `/health/*`). */
    readonly admin: PortPlan | undefined;
    /** The app's own public ports (see {@link publicPorts}). */
    readonly public: readonly PublicPortPlan[];
  };
  /** Its probes: on the admin listener when it has one, else on the RPC port; none without either. */
  readonly probes: ProbePlan | undefined;
  /** The processes that call it (from the contract graph, narrowed by the topology's `callers`). */
  readonly callers: readonly string[];
  /** The processes it calls. */
  readonly calls: readonly string[];
  /** The `https://` scheme of its address, for renderers that rewrite it. */
  readonly rpcScheme: 'http' | 'https';
}

/** A directory the app writes, named by a setting (`dataDir`), which a read-only container mounts. */
export interface DataDirPlan {
  /** The setting, e.g. `dataDir`. */
  readonly setting: string;
  /** The directory (the default, relative to the working directory unless absolute). */
  readonly path: string;
}

/** How a process stops. */
export interface DrainPlan {
  /** `drainDelay`: serving while reporting not ready, in ms. */
  readonly drainDelay: number;
  /** `shutdownTimeout`: finishing in-flight work, in ms. */
  readonly shutdownTimeout: number;
  /** What `blueprint start` allows beyond both before it exits 1, in ms. */
  readonly stopMargin: number;
  /** The longest a stop takes before `blueprint start` gives up: the three added, in ms. */
  readonly stopLimit: number;
}

/** The deployment plan of an app in a topology. */
export interface DeploymentPlan {
  /** The app's name (`defineApp({ name })`). */
  readonly app: string;
  /** A DNS-safe name for objects and the image, from the app's name. */
  readonly name: string;
  /** The topology file as the commands name it, and the app module beside it. */
  readonly files: { readonly topology: string; readonly app: string };
  /** The topology as written (variables not interpolated), for renderers that ship it. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** `rpc.type`. */
  readonly rpc: string;
  /** The processes, in topology order. */
  readonly processes: readonly ProcessPlan[];
  /** Every variable the topology reads; secrets marked. */
  readonly environment: readonly PlanVariable[];
  /** The servers the sections connect to. */
  readonly backingServices: readonly BackingService[];
  /** Directories the app writes. */
  readonly dataDirs: readonly DataDirPlan[];
  /** Stop timing. */
  readonly drain: DrainPlan;
  /** Why the topology cannot be deployed to containers as it is (empty when it can); `dev` ignores them. */
  readonly issues: readonly TopologyIssue[];
}

/** What {@link planDeployment} reads. */
export interface PlanInput {
  /** The app. */
  readonly app: AppDefinition;
  /** The topology, validated for the app. */
  readonly topology: Topology;
  /** The same topology as written, before interpolation. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The topology file as the commands should name it (absolute, or relative to the app's folder). */
  readonly topologyFile: string;
}

/** The program name commands start with; `blueprint dev` runs it with the launcher of this package. */
export const BLUEPRINT_COMMAND = 'blueprint';

/** Builds the deployment plan of `app` in `topology`. Pure: reads no file and no environment. */
export function planDeployment(input: PlanInput): DeploymentPlan {
  const { app, topology, raw, topologyFile } = input;
  const issues: TopologyIssue[] = [];
  const graph = processGraph(app, topology);
  const edges = edgeProcesses(app, topology);
  const publicPorts = publicPortsOf(topology, raw);
  const processes = Object.entries(topology.processes).map(([name, entry]) =>
    processPlan(name, entry, {
      topology,
      topologyFile,
      graph,
      publicPorts: edges.has(name) ? publicPorts : [],
      issues,
    }),
  );
  const services = backingServices(raw, issues);
  const environment = topologyVariables(raw);
  issues.push(...splitIssues(topology, processes), ...writtenSecretIssues(raw, environment));
  const appPath = typeof raw.app === 'string' ? raw.app : topology.app;
  if (appPath.includes('${')) {
    issues.push({
      path: 'topology.app',
      message: 'reads a variable; a container image needs a fixed path to the app module, e.g. "src/app.ts"',
    });
  }
  return {
    app: app.name,
    name: dnsName(app.name),
    files: {
      topology: topologyFile,
      app: path.posix.normalize(path.posix.join(path.posix.dirname(toPosix(topologyFile)), toPosix(appPath))),
    },
    raw,
    rpc: topology.rpc.type,
    processes,
    environment,
    backingServices: services,
    dataDirs: dataDirsOf(topology),
    drain: {
      drainDelay: topology.drainDelay,
      shutdownTimeout: topology.shutdownTimeout,
      stopMargin: STOP_MARGIN_MS,
      stopLimit: topology.drainDelay + topology.shutdownTimeout + STOP_MARGIN_MS,
    },
    issues,
  };
}

interface ProcessContext {
  readonly topology: Topology;
  readonly topologyFile: string;
  readonly graph: ProcessGraph;
  readonly publicPorts: readonly PublicPortPlan[];
  readonly issues: TopologyIssue[];
}

function processPlan(name: string, entry: ProcessTopology, context: ProcessContext): ProcessPlan {
  const { topology, graph, issues } = context;
  const addresses = replicaAddresses(entry);
  const replicas = Math.max(1, addresses.length);
  const command = [BLUEPRINT_COMMAND, 'start', '--topology', context.topologyFile, '--process', name];
  const units: UnitPlan[] =
    replicas === 1
      ? [{ name, replica: undefined, command }]
      : Array.from({ length: replicas }, (_, replica) => ({
          name: `${name}.${replica}`,
          replica,
          command: [...command, '--replica', String(replica)],
        }));
  const first = addresses[0] === undefined ? undefined : new URL(addresses[0]);
  const rpcPort = first === undefined ? undefined : (entry.listen?.port ?? portOf(first));
  const adminPort = adminPortOf(topology, name);
  const at = `topology.processes.${name}`;
  if (rpcPort === 0) {
    issues.push({
      path: `${at}.address`,
      message: 'port 0 picks a free port; a container needs a fixed one',
    });
  }
  if (adminPort === 0) {
    issues.push({
      path: 'topology.admin.port',
      message: `port 0 of "${name}" cannot be probed; give it one`,
    });
  }
  const rpc = rpcPort === undefined ? undefined : { name: 'rpc', port: rpcPort };
  const admin = adminPort === undefined ? undefined : { name: 'admin', port: adminPort };
  const rpcScheme = first?.protocol === 'https:' ? 'https' : 'http';
  return {
    name,
    services: [...entry.services],
    replicas,
    command,
    units,
    ports: { rpc, admin, public: context.publicPorts },
    probes: probesOf(admin, rpc, rpcScheme),
    callers: [...(graph.callers.get(name) ?? [])].filter(
      (caller) => entry.callers === undefined || entry.callers.includes(caller),
    ),
    calls: [...(graph.calls.get(name) ?? [])],
    rpcScheme,
  };
}

function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function adminPortOf(topology: Topology, process: string): number | undefined {
  const port = topology.admin?.port;
  if (port === undefined) return undefined;
  return typeof port === 'number' ? port : port[process];
}

function probesOf(
  admin: PortPlan | undefined,
  rpc: PortPlan | undefined,
  rpcScheme: 'http' | 'https',
): ProbePlan | undefined {
  const paths = { live: '/health/live', ready: '/health/ready' };
  if (admin !== undefined) return { listener: 'admin', port: admin.port, scheme: 'HTTP', ...paths };
  if (rpc !== undefined) {
    return { listener: 'rpc', port: rpc.port, scheme: rpcScheme === 'https' ? 'HTTPS' : 'HTTP', ...paths };
  }
  return undefined;
}

/** Which process calls which, from the services' declared calls. */
interface ProcessGraph {
  readonly callers: ReadonlyMap<string, ReadonlySet<string>>;
  readonly calls: ReadonlyMap<string, ReadonlySet<string>>;
}

function processGraph(app: AppDefinition, topology: Topology): ProcessGraph {
  const processOf = new Map<string, string>();
  for (const [name, entry] of Object.entries(topology.processes)) {
    for (const service of entry.services) processOf.set(service, name);
  }
  const callers = new Map<string, Set<string>>();
  const calls = new Map<string, Set<string>>();
  for (const call of declaredCalls(app)) {
    const from = processOf.get(call.from);
    const to = processOf.get(call.to);
    if (from === undefined || to === undefined || from === to) continue;
    callers.set(to, (callers.get(to) ?? new Set()).add(from));
    calls.set(from, (calls.get(from) ?? new Set()).add(to));
  }
  return { callers, calls };
}

/**
 * The processes that serve the app's public ports: those hosting a service whose contract has no
 * methods. Such a service can only be reached over a listener of its own (a gateway, a web API).
 */
function edgeProcesses(app: AppDefinition, topology: Topology): Set<string> {
  const methodless = new Set(
    app.services.filter((s) => s.contract.methodNames.length === 0).map((s) => s.contract.name),
  );
  return new Set(
    Object.entries(topology.processes)
      .filter(([, entry]) => entry.services.some((service) => methodless.has(service)))
      .map(([name]) => name),
  );
}

/**
 * The app's public ports: the settings named `port` or ending in `Port` (`httpPort`), with the value
 * the topology gives (its default, for an export).
 */
export function publicPortsOf(topology: Topology, raw: Readonly<Record<string, unknown>>): PublicPortPlan[] {
  const rawSettings = (raw.settings ?? {}) as Record<string, unknown>;
  return Object.entries(topology.settings).flatMap(([setting, value]): PublicPortPlan[] => {
    if (setting !== 'port' && !/[a-z0-9]Port$/.test(setting)) return [];
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return [];
    const base = setting === 'port' ? 'http' : kebab(setting.slice(0, -'Port'.length));
    return [
      {
        name: base.slice(0, 15),
        port,
        setting,
        variable: wholeReference(rawSettings[setting])?.name,
      },
    ];
  });
}

/** The settings named `dir` or ending in `Dir` (`dataDir`): directories the app writes. */
function dataDirsOf(topology: Topology): DataDirPlan[] {
  return Object.entries(topology.settings).flatMap(([setting, value]): DataDirPlan[] =>
    (setting === 'dir' || /[a-z0-9]Dir$/.test(setting)) && typeof value === 'string' && value !== ':memory:'
      ? [{ setting, path: value }]
      : [],
  );
}

function splitIssues(topology: Topology, processes: readonly ProcessPlan[]): TopologyIssue[] {
  const called = processes.some((process) => process.callers.length > 0);
  if (topology.auth !== 'none' || !called) return [];
  return [
    {
      path: 'topology.auth',
      message:
        '"none": in containers each process listens on every interface, which a process without auth refuses; set "auth": { "secret": "${SERVICE_SECRET}" }',
    },
  ];
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}

/** A DNS label (RFC 1123) from a name: lower-case letters, digits and dashes, at most 40 characters. */
export function dnsName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return label === '' ? 'app' : label;
}
