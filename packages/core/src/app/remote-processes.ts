/**
 * The RPC clients of a process: one per remote process it calls, created on first use by the
 * topology's transport and closed on stop.
 */
import type { AppDefinition } from '../app.js';
import type { ContractVersionGuard } from '../contracts/version-guard.js';
import type { CodedErrorClass } from '../errors.js';
import { TopologyError } from '../errors.js';
import { ReplicaSet } from '../rpc/balancer/replica-set.js';
import type { RpcClient, RpcTransport } from '../rpc/types.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { Topology } from '../topology.js';

/** The clients of the remote processes. */
export class RemoteProcesses {
  private readonly clients = new Map<string, RpcClient>();
  private readonly errorsByService: Map<string, readonly CodedErrorClass[]>;

  constructor(
    app: AppDefinition,
    private readonly topology: Topology,
    private readonly transport: RpcTransport,
    private readonly addresses: Readonly<Record<string, string>> | undefined,
    /** The guard against contract version skew handed to every client; undefined: no check. */
    private readonly versions?: ContractVersionGuard,
  ) {
    this.errorsByService = new Map(app.services.map((s) => [s.contract.name, s.contract.errors]));
  }

  private readonly replicaSets = new Map<string, ReplicaSet>();

  /** The address other processes call `process` at: an override, else the topology's (its first replica). */
  addressOf(process: string): string | undefined {
    return this.addressesOf(process)[0];
  }

  /** The addresses of `process`'s replicas: an override, else the topology's. */
  addressesOf(process: string): string[] {
    const override = this.addresses?.[process];
    if (override !== undefined) return [override];
    const entry = this.topology.processes[process];
    return entry === undefined ? [] : replicaAddresses(entry);
  }

  /** The replicas of `process` when it has several, balanced over; undefined for one address. */
  replicaSetOf(process: string): ReplicaSet | undefined {
    if (this.addressesOf(process).length < 2) return undefined;
    this.clientOf(process);
    return this.replicaSets.get(process);
  }

  /** The client of `process`, created on first use. */
  clientOf(process: string): RpcClient {
    const existing = this.clients.get(process);
    if (existing !== undefined) return existing;
    const urls = this.addressesOf(process);
    if (urls.length === 0) {
      throw new TopologyError(
        `topology.processes.${process}.address is missing; add the URL other processes call`,
      );
    }
    const connect = (url: string) =>
      this.transport.connect({
        process,
        url,
        errorsFor: (service) => this.errorsByService.get(service) ?? [],
        versions: this.versions,
      });
    let client: RpcClient;
    if (urls.length === 1) client = connect(urls[0]!);
    else {
      const set = new ReplicaSet(urls.map((url) => ({ url, client: connect(url) })));
      this.replicaSets.set(process, set);
      client = set;
    }
    this.clients.set(process, client);
    return client;
  }

  /** Closes every client; in-flight calls finish first. */
  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    const results = await Promise.allSettled(clients.map((client) => client.close()));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}
