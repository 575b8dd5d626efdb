/**
 * Checks of a parsed topology that span several keys: a service placed twice, an address given twice,
 * replicas without a port to count from, an `https://` (`tcps://`) address without certificates, an
 * address whose scheme is not the rpc transport's, callers and admin ports naming unknown processes, and
 * replicas whose consecutive ports land on another process's port.
 */
import { didYouMean } from '../suggest.js';
import type { AdminTopology } from './admin-schema.js';
import { type ProcessEntry, replicaAddresses } from './process-schema.js';
import type { TlsTopology } from './security-schema.js';

/** One problem in a topology: where and how to fix it. */
export interface TopologyIssue {
  /** Path in the file, e.g. `topology.processes.products.services[1]`. */
  readonly path: string;
  /** What is wrong and what to do. */
  readonly message: string;
}

/** What the checks read. */
export interface CheckedTopology {
  readonly processes: Readonly<Record<string, ProcessEntry>>;
  readonly tls?: TlsTopology | undefined;
  readonly admin?: AdminTopology | undefined;
  /** The `rpc` section: addresses must use its transport's schemes. */
  readonly rpc?: { readonly type: string } | undefined;
}

function placementIssues(processes: CheckedTopology['processes']): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const placement = new Map<string, string>();
  for (const [name, entry] of Object.entries(processes)) {
    entry.services.forEach((service, index) => {
      const previous = placement.get(service);
      if (previous !== undefined) {
        issues.push({
          path: `topology.processes.${name}.services[${index}]`,
          message: `service "${service}" is already placed in process "${previous}"; a service runs in exactly one process, remove one of them`,
        });
      } else placement.set(service, name);
    });
  }
  if (Object.keys(processes).length === 0) {
    issues.push({
      path: 'topology.processes',
      message: 'no processes; add at least one, e.g. { "main": { "services": [...] } }',
    });
  }
  return issues;
}

function addressIssues(
  name: string,
  entry: ProcessEntry,
  tls: TlsTopology | undefined,
  rpcType: string | undefined,
): TopologyIssue[] {
  const at = `topology.processes.${name}`;
  const issues: TopologyIssue[] = [];
  if (entry.address !== undefined && entry.addresses !== undefined) {
    issues.push({
      path: `${at}.addresses`,
      message:
        'give either "address" (one process, or a load balancer in front of several) or "addresses" (replicas), not both',
    });
  }
  if (entry.replicas !== undefined && entry.replicas > 1) {
    if (entry.addresses !== undefined) {
      issues.push({
        path: `${at}.replicas`,
        message: 'with "addresses" every replica is listed; remove "replicas"',
      });
    } else if (
      entry.address === undefined ||
      new URL(entry.address).port === '' ||
      new URL(entry.address).port === '0'
    ) {
      issues.push({
        path: `${at}.replicas`,
        message:
          'replicas run on consecutive ports from the port of "address": give "address" an explicit port, e.g. "http://127.0.0.1:4001"',
      });
    }
  }
  const https = [entry.address, ...(entry.addresses ?? [])].filter(
    (a) => a?.startsWith('https://') || a?.startsWith('tcps://'),
  );
  if (https.length > 0 && entry.tls === undefined && tls === undefined) {
    const plain = https[0]!.startsWith('tcps://') ? 'tcp://' : 'http://';
    issues.push({
      path: `${at}.address`,
      message: `${https[0]} is ${plain === 'tcp://' ? 'tcps' : 'https'}, but no certificate is configured: add a "tls" section ({ "ca", "cert", "key" }) at the top or to this process, or use ${plain}`,
    });
  }
  if (rpcType === 'http' || rpcType === 'tcp') {
    const wanted = rpcType === 'tcp' ? ['tcp:', 'tcps:'] : ['http:', 'https:'];
    const wrong = [entry.address, ...(entry.addresses ?? [])].find(
      (a) => a !== undefined && !wanted.includes(new URL(a).protocol),
    );
    if (wrong !== undefined) {
      issues.push({
        path: `${at}.${entry.address === wrong ? 'address' : 'addresses'}`,
        message: `${wrong} does not fit "rpc": { "type": "${rpcType}" }, whose addresses are ${wanted.map((w) => `${w}//`).join(' or ')}; change the scheme or the rpc type`,
      });
    }
  }
  const own = entry.tls ?? tls;
  if (own?.clientCert !== undefined && own.clientKey === undefined) {
    issues.push({
      path: `${entry.tls ? at : 'topology'}.tls.clientKey`,
      message: 'missing: "clientCert" needs its "clientKey"',
    });
  }
  return issues;
}

function namesProcesses(
  names: readonly string[],
  processes: readonly string[],
  path: (index: number, name: string) => string,
): TopologyIssue[] {
  return names.flatMap((name, index) =>
    processes.includes(name)
      ? []
      : [
          {
            path: path(index, name),
            message: `unknown process "${name}"${didYouMean(name, processes)}; the topology has: ${processes.join(', ')}`,
          },
        ],
  );
}

/** A port one replica of a process takes: its RPC address, or its admin port. */
interface TakenPort {
  readonly process: string;
  /** The replica (0-based), or undefined for a process of one instance. */
  readonly replica: number | undefined;
  /** `host:port` of an address, or `admin:<port>`. */
  readonly port: string;
}

/** The RPC addresses and admin ports every replica of every process takes. */
function takenPorts(topology: CheckedTopology): TakenPort[] {
  const taken: TakenPort[] = [];
  const adminPorts = topology.admin?.port;
  for (const [name, entry] of Object.entries(topology.processes)) {
    const addresses = replicaAddresses(entry);
    const replicated = addresses.length > 1;
    addresses.forEach((address, index) => {
      taken.push({ process: name, replica: replicated ? index : undefined, port: new URL(address).host });
    });
    const admin = typeof adminPorts === 'object' ? adminPorts[name] : undefined;
    if (admin !== undefined && admin !== 0) {
      for (let index = 0; index < Math.max(1, addresses.length); index++) {
        taken.push({
          process: name,
          replica: replicated ? index : undefined,
          port: `admin:${admin + index}`,
        });
      }
    }
  }
  return taken;
}

/**
 * Ports two processes would both take because one of them has replicas on consecutive ports. Two
 * single-instance processes may share an address (a load balancer in front of both); a replica's port
 * is where `blueprint dev` and the process itself listen, so it must be its own.
 */
function portClashIssues(topology: CheckedTopology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const first = new Map<string, TakenPort>();
  const describe = (taken: TakenPort) =>
    taken.replica === undefined
      ? `process "${taken.process}"`
      : `replica ${taken.replica + 1} of process "${taken.process}"`;
  for (const taken of takenPorts(topology)) {
    const earlier = first.get(taken.port);
    if (earlier === undefined) {
      first.set(taken.port, taken);
      continue;
    }
    if (earlier.process === taken.process || (earlier.replica === undefined && taken.replica === undefined))
      continue;
    const admin = taken.port.startsWith('admin:');
    const port = admin ? taken.port.slice('admin:'.length) : taken.port;
    issues.push({
      path: admin ? `topology.admin.port.${taken.process}` : `topology.processes.${taken.process}.address`,
      message: `${admin ? 'admin port' : 'address'} ${port} of ${describe(taken)} is also the ${admin ? 'admin port' : 'address'} of ${describe(earlier)} (replicas take consecutive ports): give each process ports the other's replicas do not reach`,
    });
  }
  return issues;
}

/** Every cross-key problem of a parsed topology. */
export function crossKeyIssues(topology: CheckedTopology): TopologyIssue[] {
  const processNames = Object.keys(topology.processes);
  const issues = placementIssues(topology.processes);
  for (const [name, entry] of Object.entries(topology.processes)) {
    issues.push(...addressIssues(name, entry, topology.tls, topology.rpc?.type));
    issues.push(
      ...namesProcesses(
        entry.callers ?? [],
        processNames,
        (index) => `topology.processes.${name}.callers[${index}]`,
      ),
    );
  }
  const adminPorts = topology.admin?.port;
  if (typeof adminPorts === 'object') {
    issues.push(
      ...namesProcesses(Object.keys(adminPorts), processNames, (_i, name) => `topology.admin.port.${name}`),
    );
  }
  issues.push(...portClashIssues(topology));
  return issues;
}
