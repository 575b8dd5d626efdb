/**
 * The TLS side of an RPC server: the options of a `node:tls` (or `node:https`) server with the
 * process's certificate, asking for client certificates when the topology configures mutual TLS.
 */
import type { TlsOptions } from 'node:tls';
import { TopologyError } from '../errors.js';
import type { RpcTlsMaterial } from './types.js';

/**
 * The server TLS options for `tls` (TLS 1.2 at least; mutual when `clientCert` is set). Throws the
 * topology error naming the fix when the process has a `secure` address (`https`, `tcps`) but no
 * certificate.
 */
export function tlsServerOptions(tls: RpcTlsMaterial | undefined, secure: 'https' | 'tcps'): TlsOptions {
  if (tls === undefined) {
    const plain = secure === 'https' ? 'http' : 'tcp';
    throw new TopologyError(
      `this process has ${secure === 'https' ? 'an' : 'a'} ${secure}:// address but no certificate: add a "tls" section ({ "ca", "cert", "key" }) at the top of the topology or to the process, or use ${plain}://`,
    );
  }
  const mutual = tls.clientCert !== undefined;
  return {
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    minVersion: 'TLSv1.2',
    requestCert: mutual,
    rejectUnauthorized: mutual,
  };
}
