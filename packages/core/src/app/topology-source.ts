/** Where `createApp` gets its topology: a parsed one, a JSON object, or a file path. */
import type { AppDefinition } from '../app.js';
import type { RpcDriver } from '../rpc/types.js';
import {
  BUILT_IN_RPC_DRIVERS,
  loadTopologyFile,
  type ParseTopologyOptions,
  parseTopology,
  type Topology,
  type TopologySection,
} from '../topology.js';

/** The sections and RPC drivers an app's plugins add, for parsing its topology. */
export function topologyOptionsOf(app: AppDefinition): Pick<ParseTopologyOptions, 'sections' | 'rpcDrivers'> {
  const sections: TopologySection[] = [];
  const rpcDrivers: RpcDriver[] = [...BUILT_IN_RPC_DRIVERS];
  for (const plugin of app.plugins) {
    if (plugin.section !== undefined) sections.push(plugin.section);
    rpcDrivers.push(...(plugin.rpcDrivers ?? []));
  }
  return { sections, rpcDrivers };
}

/** The RPC drivers of an app: core's and its plugins'. */
export function rpcDriversOf(app: AppDefinition): readonly RpcDriver[] {
  return topologyOptionsOf(app).rpcDrivers ?? BUILT_IN_RPC_DRIVERS;
}

/** Resolves the `topology` option of `createApp` into a validated topology. */
export function resolveTopology(
  app: AppDefinition,
  topology: Topology | Record<string, unknown> | string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Topology {
  const options = { ...topologyOptionsOf(app), env };
  if (typeof topology === 'string') return loadTopologyFile(topology, options);
  if (isParsedTopology(topology)) return topology;
  return parseTopology(topology, options);
}

function isParsedTopology(value: unknown): value is Topology {
  return typeof value === 'object' && value !== null && 'sections' in value && 'baseDir' in value;
}
