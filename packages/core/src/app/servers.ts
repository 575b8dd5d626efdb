/**
 * The listeners of a process: the RPC server (when other processes call its services) and the admin
 * listener (`admin.port`).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { callAuthenticator } from '../auth/service-auth.js';
import { TopologyError } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import type {
  MetricsSource,
  RefusedRpcRequest,
  RpcDispatcher,
  RpcServer,
  RpcTransport,
} from '../rpc/types.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { Topology } from '../topology.js';
import { type AdminDashboard, type AdminServer, startAdminServer } from './admin-server.js';
import type { ReadinessReport } from './health.js';
import type { HostedServices } from './hosted-services.js';
import { isCallable, type Placement } from './placement.js';

/** What the listeners serve from. */
export interface ServerSources {
  readonly topology: Topology;
  readonly placement: Placement;
  readonly hosted: HostedServices;
  readonly transport: RpcTransport;
  readonly telemetry: Telemetry;
  readonly readiness: () => Promise<ReadinessReport>;
  /** Overrides of where the RPC server binds (`createApp`'s `listen` option). */
  readonly listen: { readonly host?: string; readonly port?: number } | undefined;
  readonly dispatcher: () => RpcDispatcher;
  readonly onRefused: (refusal: RefusedRpcRequest) => void;
  /** Which replica of its process this one is (0-based), choosing its address among the replicas'. */
  readonly replica?: number | undefined;
  /** What the admin listener serves the dashboard: this process's sections and recent spans. */
  readonly dashboard?:
    | (Omit<AdminDashboard, 'process' | 'replica'> & {
        /** The dashboard's page and API (`admin.dashboard`), served under `/dashboard/`. */
        readonly page: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
      })
    | undefined;
}

/** The listeners of a process, started by `start()` and closed by `stop()`. */
export class Servers {
  private rpc: RpcServer | undefined;
  private adminServer: AdminServer | undefined;

  constructor(private readonly sources: ServerSources) {}

  /** URL of the RPC server once it listens. */
  get rpcUrl(): string | undefined {
    return this.rpc?.url;
  }

  /** URL of the admin listener once it listens. */
  get adminUrl(): string | undefined {
    return this.adminServer?.url;
  }

  /** The Prometheus text, for the operator routes; undefined when metrics are off. */
  get metrics(): MetricsSource | undefined {
    const { metrics } = this.sources.telemetry;
    if (!metrics.enabled) return undefined;
    return async () => ({ contentType: metrics.contentType, text: await metrics.text() });
  }

  /** True when this process serves calls: other processes can reach it and it hosts callable services. */
  get servesCalls(): boolean {
    const { transport, placement, hosted, listen } = this.sources;
    const entry = placement.processTopology;
    return (
      transport.crossesProcesses &&
      (replicaAddresses(entry).length > 0 || entry.listen !== undefined || listen !== undefined) &&
      hosted.contracts.some(isCallable)
    );
  }

  /** Starts the admin listener, when the topology gives this process an admin port. */
  async startAdmin(): Promise<void> {
    const { topology, placement, readiness } = this.sources;
    const admin = topology.admin;
    const configured = admin?.port;
    const base = typeof configured === 'object' ? configured[placement.process] : configured;
    if (base === undefined) return;
    // Replicas of a process take consecutive admin ports, as they take consecutive RPC ports.
    const port = base === 0 ? 0 : base + (this.sources.replica ?? 0);
    this.adminServer = await startAdminServer({
      host: admin?.host,
      port,
      metrics: this.metrics,
      readiness,
      token: admin?.token,
      ...(this.sources.dashboard === undefined
        ? {}
        : {
            dashboard: {
              app: this.sources.dashboard.app,
              sections: this.sources.dashboard.sections,
              spans: this.sources.dashboard.spans,
              process: placement.process,
              replica: this.sources.replica ?? 0,
            },
            extra: this.sources.dashboard.page,
          }),
    });
  }

  /** Starts the RPC server, when this process serves calls. */
  async startRpc(): Promise<void> {
    if (!this.servesCalls) return;
    const { placement, listen, transport, readiness, onRefused } = this.sources;
    const entry = placement.processTopology;
    const own = replicaAddresses(entry)[this.sources.replica ?? 0];
    const address = own === undefined ? undefined : new URL(own);
    const host =
      listen?.host ?? entry.listen?.host ?? address?.hostname.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1';
    refusePublicWithoutAuth(this.sources.topology, placement.process, host);
    const logger = this.sources.telemetry.logger.child({ component: 'rpc' });
    this.rpc = await transport.listen({
      dispatcher: this.sources.dispatcher(),
      readiness,
      onRefused,
      onHiddenError: ({ correlationId, service, method, error }) =>
        logger.error(
          { correlationId, service, method, err: error },
          'internal error answered as "internal error"',
        ),
      authenticate: callAuthenticator(this.sources.topology, placement.process),
      secure: address?.protocol === 'https:' || address?.protocol === 'tcps:',
      host,
      port: listen?.port ?? entry.listen?.port ?? Number(address?.port || 0),
    });
  }

  /** Stops accepting calls and drains the RPC server for up to `drainTimeoutMs`. */
  async closeRpc(drainTimeoutMs: number): Promise<void> {
    await this.rpc?.close(drainTimeoutMs);
  }

  /** Closes the admin listener. */
  async closeAdmin(): Promise<void> {
    await this.adminServer?.close();
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Refuses to serve calls on a non-loopback interface when the topology opted out of auth. */
function refusePublicWithoutAuth(topology: Topology, process: string, host: string): void {
  if (topology.auth !== 'none' || LOOPBACK.test(host)) return;
  throw new TopologyError(
    `process "${process}" would serve calls on ${host} without authentication ("auth": "none"); calls between services on a network must be authenticated: set "auth": { "secret": ... }, or bind 127.0.0.1`,
    {
      details: {
        issues: [{ path: `topology.processes.${process}`, message: `binds ${host} with "auth": "none"` }],
      },
    },
  );
}
