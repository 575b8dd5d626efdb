/**
 * The topology a container network runs: the file as written, with each process called at its
 * service name instead of the laptop's loopback address, every listener bound to all interfaces (a
 * container's loopback is its own), and paths made absolute inside the image, so the file can be
 * mounted anywhere. Variables (`${VAR:-default}`) stay as they are: the orchestrator supplies them.
 */
import path from 'node:path';
import type { BackingService } from './backing-services.js';
import type { DeploymentPlan } from './plan.js';

/** The working directory of the image: the app's folder. */
export const CONTAINER_WORKDIR = '/app';

/** Where Compose and Kubernetes mount the container topology. */
export const CONTAINER_TOPOLOGY_DIR = '/etc/blueprint';

/** The container topology's file. */
export const CONTAINER_TOPOLOGY = `${CONTAINER_TOPOLOGY_DIR}/topology.json`;

/** Everything a container binds: all interfaces. */
const ALL_INTERFACES = '0.0.0.0';

const URL_HOST = /^([a-z][a-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^/:?#]*)(.*)$/i;
const TLS_FILES = ['ca', 'cert', 'key', 'clientCert', 'clientKey'] as const;

type Json = Record<string, unknown>;

/**
 * The container topology of `plan`: `hostOf(process)` is the name other containers reach a process at
 * (its Compose service, its Kubernetes Service). Replicas become one address, the service name, which
 * the orchestrator balances; the Deployment or Compose service runs the replicas.
 */
export function containerTopology(plan: DeploymentPlan, hostOf: (process: string) => string): Json {
  const topology = structuredClone(plan.raw) as Json;
  const dir = path.posix.join(CONTAINER_WORKDIR, path.posix.dirname(plan.files.topology));
  topology.app = path.posix.join(CONTAINER_WORKDIR, plan.files.app);
  absoluteTls(topology.tls, dir);
  const processes = (topology.processes ?? {}) as Record<string, Json>;
  for (const process of plan.processes) {
    const entry = processes[process.name];
    if (entry === undefined) continue;
    absoluteTls(entry.tls, dir);
    if (process.ports.rpc === undefined) continue;
    const written = (entry.address ?? (entry.addresses as unknown[] | undefined)?.[0]) as string;
    entry.address = withHost(written, hostOf(process.name), process.rpcScheme, process.ports.rpc.port);
    delete entry.addresses;
    delete entry.replicas;
    entry.listen = { ...((entry.listen as Json | undefined) ?? {}), host: ALL_INTERFACES };
  }
  const admin = topology.admin as Json | undefined;
  if (typeof admin === 'object' && admin !== null) admin.host = ALL_INTERFACES;
  return topology;
}

/** The address with its host replaced; an address that is all one variable becomes a plain URL. */
function withHost(written: string, host: string, scheme: string, port: number): string {
  const match = URL_HOST.exec(written);
  if (match === null || match[2]!.includes('${')) return `${scheme}://${host}:${port}`;
  return `${match[1]}${host}${match[3]}`;
}

function absoluteTls(tls: unknown, dir: string): void {
  if (typeof tls !== 'object' || tls === null) return;
  const files = tls as Json;
  for (const key of TLS_FILES) {
    const file = files[key];
    if (typeof file === 'string' && !file.startsWith('/') && !file.startsWith('${')) {
      files[key] = path.posix.join(dir, file);
    }
  }
}

/** The container topology as the JSON text a container reads. */
export function containerTopologyText(plan: DeploymentPlan, hostOf: (process: string) => string): string {
  return `${JSON.stringify(containerTopology(plan, hostOf), null, 2)}\n`;
}

/** A variable a container must be given, and where an orchestrator takes it from. */
export interface ContainerVariable {
  /** Its name. */
  readonly name: string;
  /**
   * `secret`: a secret (from a secret store); `backing`: the URL of a backing server (a Compose
   * service, or a secret in Kubernetes, since a URL may hold credentials).
   */
  readonly source: 'secret' | 'backing';
  /** True when the topology gives a default, so leaving it unset is allowed. */
  readonly optional: boolean;
  /** The backing server whose URL it is. */
  readonly backing?: BackingService | undefined;
}

/**
 * The variables every container of the plan is given: the secrets and the URLs of backing servers.
 * Every other variable keeps the default the topology gives (export asks for one where it is missing).
 */
export function containerVariables(plan: DeploymentPlan): ContainerVariable[] {
  return plan.environment.flatMap((variable): ContainerVariable[] => {
    const backing = plan.backingServices.find((service) => service.variable === variable.name);
    if (backing !== undefined) return [{ name: variable.name, source: 'backing', optional: false, backing }];
    if (variable.secret) {
      return [{ name: variable.name, source: 'secret', optional: variable.default !== undefined }];
    }
    return [];
  });
}

/** A directory of the app inside the container: relative paths are under the working directory. */
export function containerPath(dir: string): string {
  return path.posix.isAbsolute(dir) ? dir : path.posix.join(CONTAINER_WORKDIR, dir);
}
