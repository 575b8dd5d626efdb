/** The options every RPC transport's client takes, besides its own (its pool, its timeouts). */
import type { Codec } from '../codec.js';
import type { ContractVersionGuard } from '../contracts/version-guard.js';
import type { CodedErrorClass } from '../errors.js';
import type { RpcClientTls } from './client-tls.js';
import type { RpcConnectOptions } from './types.js';

/** Options shared by `createHttpRpcClient` and `createTcpRpcClient`. */
export interface RpcClientOptions {
  /** Address of the remote process. */
  readonly url: string;
  /** Timeout of a call when the caller gives no deadline, in ms. Default 10000. */
  readonly timeout?: number;
  /** Largest answer body accepted, in bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Error classes a service throws, to rebuild them by code. */
  readonly errorsFor?: (service: string) => readonly CodedErrorClass[];
  /** Codec of bodies. Default: the tagged JSON codec. */
  readonly codec?: Codec;
  /**
   * For a secure url (`https://`, `tcps://`): the CA the server's certificate is verified against
   * (default: the system's CAs), and the client certificate and key presented for mutual TLS (default:
   * none).
   */
  readonly tls?: RpcClientTls | undefined;
  /**
   * The calling process's guard against contract version skew (see `contracts/version-guard.ts`): answers
   * whose contract fingerprint differs from the caller's are checked by it. Default: no check.
   */
  readonly versions?: ContractVersionGuard | undefined;
  /** The name of the remote process, for the guard's credentials and messages. Default: the url. */
  readonly process?: string | undefined;
}

/**
 * The {@link RpcClientOptions} of a driver's client of `target`: the target's address, process, errors
 * and version guard, the driver's call timeout and body limit, and the process's client TLS.
 *
 * @example
 * connect: (target) => createTcpRpcClient({ ...rpcClientOptions(target, options, clientTls), connections: 2 })
 */
export function rpcClientOptions(
  target: RpcConnectOptions,
  driver: { readonly timeout: number; readonly bodyLimit: number },
  tls: RpcClientTls | undefined,
): RpcClientOptions {
  return {
    url: target.url,
    timeout: driver.timeout,
    bodyLimit: driver.bodyLimit,
    errorsFor: target.errorsFor,
    tls,
    versions: target.versions,
    process: target.process,
  };
}
