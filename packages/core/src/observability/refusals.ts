/**
 * Requests an RPC server answered with an error before they reached a method (unknown method, bad body,
 * shutting down): counted under the server's request counter and logged at `warn`.
 */
import type { CallObservers } from '../chain/observability-link.js';
import type { RefusedRpcRequest, RpcDispatcher } from '../rpc/types.js';
import type { Telemetry } from './telemetry.js';
import { errorCodeOf } from './tracing.js';

/** Returns the `onRefused` callback of a process's RPC server. */
export function refusalRecorder(
  telemetry: Telemetry,
  observers: CallObservers,
  dispatcher: () => RpcDispatcher,
): (refusal: RefusedRpcRequest) => void {
  const logger = telemetry.logger.child({ component: 'rpc' });
  return ({ service, method, error, correlationId }) => {
    const known = service !== undefined && method !== undefined && dispatcher().has(service, method);
    const code = errorCodeOf(error);
    // Unknown names come from the request path: they never become label values.
    observers.server?.refused(known ? service : '-', known ? method : '-', code);
    if (!logger.isLevelEnabled('warn')) return;
    logger.warn({ correlationId, service, method, code, err: error }, 'rpc request refused');
  };
}
