/** The links core adds to every process's call chain, before the plugins add theirs. */

import { authLink } from '../auth/service-auth.js';
import { contextLink } from '../chain/context-link.js';
import { limitsLink } from '../chain/limits-link.js';
import type { Link } from '../chain/link.js';
import { type CallObservers, observabilityLink } from '../chain/observability-link.js';
import { type LocalCallOptions, validationLink } from '../chain/validation-link.js';
import { jsonCodec } from '../codec.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ReplicaSet } from '../rpc/balancer/replica-set.js';
import { routingLink } from '../rpc/balancer/routing-link.js';
import type { Topology } from '../topology.js';

/** What core's links read. */
export interface CoreLinkSources {
  readonly topology: Topology;
  readonly telemetry: Telemetry;
  readonly observers: CallObservers;
  /** The URL of the process hosting `service`. */
  readonly addressOf: (service: string) => string | undefined;
  /** The URL of this process's RPC server, once it listens. */
  readonly serverUrl: () => string | undefined;
  /** This process's name. */
  readonly process: string;
  /** The process hosting `service`. */
  readonly ownerOf: (service: string) => string;
  /** The replicas of the process hosting `service`, when it has several. */
  readonly replicaSetOf: (service: string) => ReplicaSet | undefined;
}

/** The local-call checks the topology's `rpc` section asks for. */
export function localCallOptions(topology: Topology): LocalCallOptions {
  const { rpc } = topology;
  return {
    serialize: rpc.serialize,
    validateInput: rpc.validate.input,
    validateOutput: rpc.validate.output,
    codec: jsonCodec,
  };
}

/** Validation, the call's limits, observability, balancing over replicas, and the credentials of remote calls. */
export function coreLinks(sources: CoreLinkSources): Link[] {
  const local = localCallOptions(sources.topology);
  return [
    contextLink(),
    validationLink(local),
    limitsLink(local),
    observabilityLink(sources.telemetry, sources.observers, {
      addressOf: sources.addressOf,
      serverUrl: sources.serverUrl,
    }),
    routingLink(sources.replicaSetOf),
    authLink(sources.topology, sources.process, sources.ownerOf),
  ];
}
