/**
 * The seam between contracts and RPC transports. A transport moves `(service, method, input)` to the
 * process hosting the service and brings back the raw result or a coded error; contracts do the rest
 * (validation, decoding through the output schema).
 */
import type { CallContext } from '../contract.js';
import type { HealthCheckResult } from '../plugin.js';

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

/** Runs calls against the services hosted in this process, as an RPC server needs. */
export interface RpcDispatcher {
  /** True when this process hosts `service` and the contract has `method`. */
  has(service: string, method: string): boolean;
  /**
   * Parses the input with the contract's schema and runs the method. Resolves to the raw result;
   * the caller's side decodes it through the output schema.
   */
  dispatch(service: string, method: string, input: unknown, context: CallContext): Promise<unknown>;
  /** Readiness of this process, for `/health/ready`. */
  readiness(): Promise<{ ok: boolean; checks: Record<string, HealthCheckResult> }>;
}
