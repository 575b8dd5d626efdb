/**
 * The seam between the call chain and RPC transports. A transport moves `(service, method, input)` to
 * the process hosting the service and brings back the raw result or a coded error; the chain does the
 * rest (validation, decoding through the output schema, policies, observability).
 *
 * A transport is a driver: a descriptor `{ type, schema, create }` ({@link RpcDriver}) whose `create`
 * returns an {@link RpcTransport}.
 */
import type { z } from 'zod';
import type { HealthCheckResult, ReadinessReport } from '../app/health.js';
import type { CallAuthenticator } from '../auth/credentials.js';
import type { CallContext } from '../contract.js';
import type { ContractDescription } from '../contracts/compatibility.js';
import type { ContractVersionGuard } from '../contracts/version-guard.js';
import type { CodedErrorClass } from '../errors.js';
import type { DriverDescriptor } from '../transport/drivers.js';

/** The client side of a transport, one per remote process. */
export interface RpcClient {
  /**
   * Calls `service.method` with `input` in the remote process. Resolves to the raw (not yet
   * schema-decoded) result; rejects with the coded error the service threw, or with
   * `REMOTE_UNAVAILABLE`, `TIMEOUT` or `ABORTED` for transport failures (the cause kept).
   */
  call(service: string, method: string, input: unknown, context?: CallContext): Promise<unknown>;
  /** Asks the remote process whether it is live; answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<HealthCheckResult>;
  /** Closes pooled connections. In-flight calls finish first. */
  close(): Promise<void>;
}

/** The server side of a transport: it receives calls for the services hosted in this process. */
export interface RpcServer {
  /** The URL it listens on (with the real port when port 0 was asked for). */
  readonly url: string;
  /** Number of calls being handled now. */
  readonly inFlight: number;
  /** Stops accepting calls, waits up to `drainTimeoutMs` for in-flight calls, then closes every socket. */
  close(drainTimeoutMs: number): Promise<void>;
}

/** Runs calls against the services hosted in this process: the `serve` side of the call chain. */
export interface RpcDispatcher {
  /** True when this process hosts `service` and the contract has `method`. */
  has(service: string, method: string): boolean;
  /**
   * Runs the method's `serve` chain (input validation, observability, the implementation). Resolves to
   * the raw result; the caller's side decodes it through the output schema.
   */
  dispatch(service: string, method: string, input: unknown, context: CallContext): Promise<unknown>;
  /**
   * The description of the contract of a hosted `service` (its version, fingerprint and schemas), or
   * undefined when this process does not host it. Servers send its fingerprint with every answer and
   * the description to callers that ask, so callers of another version can tell what differs.
   */
  describe?(service: string): ContractDescription | undefined;
  /** The fingerprint of each hosted service's contract, by service (what `describe` names). */
  fingerprints?(): Readonly<Record<string, string>>;
}

/** A request the server answered with an error without dispatching it. */
export interface RefusedRpcRequest {
  /** The service named by the request, if it named one. */
  readonly service: string | undefined;
  /** The method named by the request, if any. */
  readonly method: string | undefined;
  /** The error answered. */
  readonly error: unknown;
  /** The request's `x-correlation-id`, if any. */
  readonly correlationId: string | undefined;
}

/** The Prometheus text of a process and its content type. */
export type MetricsSource = () => Promise<{ readonly contentType: string; readonly text: string }>;

/** What a transport's client is built for. */
export interface RpcConnectOptions {
  /** The remote process's name. */
  readonly process: string;
  /** Its address from the topology, e.g. `http://127.0.0.1:4001`. */
  readonly url: string;
  /** Error classes a service throws, to rebuild them by code. */
  readonly errorsFor: (service: string) => readonly CodedErrorClass[];
  /**
   * This process's guard against contract version skew: the client makes one `ReplicaContracts` per
   * replica (`versions.forReplica`) and hands it the contract fingerprint of each answer. Undefined: no check.
   */
  readonly versions?: ContractVersionGuard | undefined;
}

/**
 * The TLS certificates of a process, as PEM text read from the files its topology's `tls` section
 * names (`processes.<p>.tls`, else the top-level `tls`) when the process is built.
 */
export interface RpcTlsMaterial {
  /** The CA certificate servers (and, with mutual TLS, clients) are verified against. */
  readonly ca: string;
  /** This process's server certificate. */
  readonly cert: string;
  /** Its private key. */
  readonly key: string;
  /**
   * This process's client certificate: calls present it, and the process's server asks every caller for
   * one signed by `ca` (mutual TLS). Undefined for server-only TLS.
   */
  readonly clientCert?: string | undefined;
  /** The client certificate's private key. */
  readonly clientKey?: string | undefined;
}

/** An uncoded error a server answered with a generic message: its detail is for the server's logs. */
export interface HiddenRpcError {
  /** The service called, when the request named one. */
  readonly service: string | undefined;
  /** The method called, when the request named one. */
  readonly method: string | undefined;
  /** The error, with its message and stack. */
  readonly error: unknown;
  /** The correlation id the answer names: the call's own, or one made up for this answer. */
  readonly correlationId: string;
}

/** What a transport's server is started with. */
export interface RpcListenOptions {
  /** Calls go here. */
  readonly dispatcher: RpcDispatcher;
  /** Host to bind. */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /**
   * Readiness of the process, for the probes on the RPC port (`/health/live`, `/health/ready`), which
   * answer the bare status: details and metrics are on the admin listener.
   */
  readonly readiness: () => Promise<ReadinessReport>;
  /** Told about every request answered with an error before it reached the dispatcher. */
  readonly onRefused?: ((refusal: RefusedRpcRequest) => void) | undefined;
  /**
   * Verifies the credential of every call (the `x-bp-credential` header) before its body is read;
   * undefined when calls are not authenticated. What it throws is the answer.
   */
  readonly authenticate?: CallAuthenticator | undefined;
  /**
   * Serve TLS with the certificate of the driver context's `tls`: true when the process's own address is
   * `https://`. Default false.
   */
  readonly secure?: boolean | undefined;
  /**
   * Told about every uncoded error (`INTERNAL`) answered to a caller: the answer says only "internal
   * error" and the correlation id, so this is where the detail gets logged.
   */
  readonly onHiddenError?: ((hidden: HiddenRpcError) => void) | undefined;
}

/** What an RPC driver builds: how this process calls others and serves calls. */
export interface RpcTransport {
  /** False for `local`: services in other processes cannot be reached. */
  readonly crossesProcesses: boolean;
  /** A client of the remote process at `options.url`. Connects lazily. */
  connect(options: RpcConnectOptions): RpcClient;
  /** Starts serving the hosted services; resolves once it listens. */
  listen(options: RpcListenOptions): Promise<RpcServer>;
}

/** What `create` of an RPC driver is told besides its options. */
export interface RpcDriverContext {
  /** The app name. */
  readonly appName: string;
  /** This process's name. */
  readonly process: string;
  /**
   * This process's TLS certificates, when its topology has a `tls` section: servers whose address is
   * `https://` serve with them, and clients of `https://` addresses verify against `ca` (and present
   * `clientCert`). Undefined without a `tls` section: `https://` clients then trust the system's CAs.
   */
  readonly tls?: RpcTlsMaterial | undefined;
}

/** An RPC transport driver: the `rpc` section of a topology selects one by `type`. */
export type RpcDriver<Schema extends z.ZodObject = z.ZodObject> = DriverDescriptor<
  string,
  Schema,
  RpcTransport,
  RpcDriverContext
>;
