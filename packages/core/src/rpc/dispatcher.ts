/**
 * Runs incoming calls against the services hosted in this process.
 */
import type { AnyContract, CallContext } from '../contract.js';
import { RpcRequestError } from '../errors.js';
import type { HealthCheckResult } from '../plugin.js';
import { parseOrThrow } from '../validation.js';
import type { RpcDispatcher } from './types.js';

interface HostedEntry {
  readonly contract: AnyContract;
  readonly instance: () => Record<string, (input: unknown, context?: CallContext) => Promise<unknown>>;
}

/**
 * Builds a dispatcher over hosted services. `instance` is called lazily so the dispatcher can be
 * created before the services are.
 */
export function createDispatcher(
  hosted: readonly { contract: AnyContract; instance: () => object }[],
  readiness: () => Promise<{ ok: boolean; checks: Record<string, HealthCheckResult> }>,
): RpcDispatcher {
  const entries = new Map<string, HostedEntry>();
  for (const entry of hosted) entries.set(entry.contract.name, entry as HostedEntry);
  const lookup = (service: string, method: string) => {
    const entry = entries.get(service);
    if (entry === undefined || !Object.hasOwn(entry.contract.methods, method)) return undefined;
    return entry;
  };
  return {
    has: (service, method) => lookup(service, method) !== undefined,
    async dispatch(service, method, input, context) {
      const entry = lookup(service, method);
      if (entry === undefined) {
        throw new RpcRequestError(
          'RPC_UNKNOWN_METHOD',
          `no method "${method}" of service "${service}" is hosted here`,
          {
            status: 404,
            details: { service, method },
          },
        );
      }
      const definition = entry.contract.methods[method]!;
      const parsed = parseOrThrow(definition.input, input, `${service}.${method}`, 'input');
      return entry.instance()[method]!(parsed, context);
    },
    readiness,
  };
}
