/** Errors every RPC transport answers alike. */
import { RpcUnknownMethodError } from '../errors.js';

/** The answer to a call of a method no hosted service has. */
export function unknownMethodError(service: string, method: string) {
  return new RpcUnknownMethodError(
    `no method "${method}" of service "${service}" is hosted here; check the topology places the service in this process`,
    { details: { service, method } },
  );
}
