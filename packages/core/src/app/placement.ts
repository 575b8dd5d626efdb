// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the topology's own ${VAR} syntax
/**
 * Placement: which process hosts which service, checked against the app, and which process this one
 * is. Pure functions of the app and the topology; nothing is created here.
 */
import type { AppDefinition } from '../app.js';
import type { AnyContract } from '../contract.js';
import { TopologyError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { ProcessTopology, Topology, TopologyIssue } from '../topology.js';
import { unreachableCallees } from './app-checks.js';

function refuse(topology: Topology, issues: TopologyIssue[]): never {
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
  throw new TopologyError(`invalid topology ${topology.source}:\n${lines}`, {
    details: { source: topology.source, issues },
  });
}

/**
 * Checks a topology against an app: every service of the app is placed, no unknown service is placed,
 * a multi-process topology uses a transport that crosses processes, and every process other processes
 * call has an address (`addresses` are `createApp`'s overrides).
 */
export function checkTopologyAgainstApp(
  topology: Topology,
  app: AppDefinition,
  addresses?: Readonly<Record<string, string>>,
): void {
  const issues: TopologyIssue[] = [];
  const known = new Set(app.services.map((s) => s.contract.name));
  const placed = new Set<string>();
  for (const [processName, processTopology] of Object.entries(topology.processes)) {
    processTopology.services.forEach((service, index) => {
      placed.add(service);
      if (!known.has(service)) {
        issues.push({
          path: `topology.processes.${processName}.services[${index}]`,
          message: `unknown service "${service}"${didYouMean(service, known)}; the app "${app.name}" has: ${[...known].join(', ')}`,
        });
      }
    });
  }
  for (const service of known) {
    if (!placed.has(service)) {
      issues.push({
        path: 'topology.processes',
        message: `service "${service}" is placed nowhere; add it to the "services" of one process`,
      });
    }
  }
  if (topology.rpc.type === 'local' && Object.keys(topology.processes).length > 1) {
    issues.push({
      path: 'topology.rpc.type',
      message:
        'rpc "local" only reaches services in the same process, but this topology has several processes; use "http"',
    });
  } else if (Object.keys(topology.processes).length > 1) {
    issues.push(...unreachableCallees(app, topology, addresses));
    if (topology.auth === undefined) {
      issues.push({
        path: 'topology.auth',
        message:
          'missing: the processes of this topology call each other over the network, and calls between services are authenticated by default; add "auth": { "secret": "${SERVICE_SECRET}" } (at least 32 characters, from the environment), or "auth": "none" to opt out for loopback experiments',
      });
    }
  }
  for (const plugin of app.plugins) {
    const section = plugin.section;
    const config = section === undefined ? undefined : topology.sections[section.key];
    if (section?.check !== undefined && config !== undefined) issues.push(...section.check(config, app));
  }
  if (issues.length > 0) refuse(topology, issues);
}

/** The process to build: the requested one, or the only one. */
export function pickProcess(topology: Topology, requested: string | undefined): string {
  const names = Object.keys(topology.processes);
  const fail = (message: string): never => refuse(topology, [{ path: 'topology.processes', message }]);
  if (requested === undefined) {
    if (names.length === 1) return names[0]!;
    return fail(
      `the topology has several processes (${names.join(', ')}); choose one with --process <name> (the \`process\` option of createApp)`,
    );
  }
  if (!Object.hasOwn(topology.processes, requested)) {
    return fail(
      `unknown process "${requested}"${didYouMean(requested, names)}; the topology has: ${names.join(', ')}`,
    );
  }
  return requested;
}

/** Refuses a replica index the process does not have. */
export function checkReplica(topology: Topology, process: string, replica: number | undefined): void {
  if (replica === undefined || replica === 0) return;
  const count = replicaAddresses(topology.processes[process]!).length;
  if (!Number.isInteger(replica) || replica < 0 || replica >= count) {
    refuse(topology, [
      {
        path: `topology.processes.${process}`,
        message: `replica ${replica} does not exist: process "${process}" has ${count} replica(s), numbered from 0; give it "replicas" or "addresses"`,
      },
    ]);
  }
}

/** Where every service runs, from one process's point of view. */
export interface Placement {
  /** This process's name. */
  readonly process: string;
  /** This process's entry in the topology. */
  readonly processTopology: ProcessTopology;
  /** True when this process hosts `service`. */
  hosts(service: string): boolean;
  /** The process hosting `service`. */
  ownerOf(service: string): string;
}

/** The placement of every service, seen from `processName`. */
export function placementOf(topology: Topology, processName: string): Placement {
  const owners = new Map<string, string>();
  for (const [name, entry] of Object.entries(topology.processes)) {
    for (const service of entry.services) owners.set(service, name);
  }
  const processTopology = topology.processes[processName]!;
  const hosted = new Set(processTopology.services);
  return {
    process: processName,
    processTopology,
    hosts: (service) => hosted.has(service),
    ownerOf: (service) => owners.get(service)!,
  };
}

/** True when a contract has methods to call (a contract of events only has none). */
export function isCallable(contract: AnyContract): boolean {
  return contract.methodNames.length > 0;
}
