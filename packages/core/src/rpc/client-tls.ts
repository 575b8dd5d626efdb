/**
 * The TLS side of an RPC client: what a process presents when it calls another one (its CA, and its
 * client certificate under mutual TLS), and the `node:tls` options of a connection made with it.
 */
import type { RpcTlsMaterial } from './types.js';

/** What a client verifies servers against and presents to them. */
export interface RpcClientTls {
  /** The CA certificate (PEM) servers are verified against. */
  readonly ca?: string | undefined;
  /** The client certificate (PEM), for mutual TLS. */
  readonly cert?: string | undefined;
  /** Its private key (PEM). */
  readonly key?: string | undefined;
}

/** The client side of the process's TLS material: its CA, and its client certificate when it has one. */
export function clientTlsOf(tls: RpcTlsMaterial | undefined): RpcClientTls | undefined {
  if (tls === undefined) return undefined;
  return {
    ca: tls.ca,
    ...(tls.clientCert === undefined || tls.clientKey === undefined
      ? {}
      : { cert: tls.clientCert, key: tls.clientKey }),
  };
}

/** The `ca`, `cert` and `key` options of a TLS connection for `tls`, each only when given (a pair only whole). */
export function tlsConnectOptions(tls: RpcClientTls): { ca?: string; cert?: string; key?: string } {
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key }),
  };
}
