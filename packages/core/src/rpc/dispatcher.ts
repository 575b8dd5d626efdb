/**
 * The dispatcher of a process: the `serve` chains of its hosted services, by service and method, for
 * the RPC server to call.
 */

import type { Invocation } from '../chain/link.js';
import type { AnyContract, CallContext } from '../contract.js';
import { type ContractDescription, describeContract } from '../contracts/compatibility.js';
import { unknownMethodError } from './errors.js';
import type { RpcDispatcher } from './types.js';

/** A hosted service with the `serve` chain of each of its methods. */
export interface ServedService {
  readonly contract: AnyContract;
  readonly methods: Readonly<Record<string, Invocation>>;
}

/** Builds a dispatcher over the `serve` chains of the hosted services. */
export function createDispatcher(served: readonly ServedService[]): RpcDispatcher {
  const byService = new Map<string, ServedService>();
  const descriptions = new Map<string, ContractDescription>();
  const fingerprints: Record<string, string> = Object.create(null);
  for (const entry of served) {
    const description = describeContract(entry.contract);
    byService.set(entry.contract.name, entry);
    descriptions.set(entry.contract.name, description);
    fingerprints[entry.contract.name] = description.fingerprint;
  }
  const lookup = (service: string, method: string): Invocation | undefined => {
    const entry = byService.get(service);
    if (entry === undefined || !Object.hasOwn(entry.methods, method)) return undefined;
    return entry.methods[method];
  };
  return {
    has: (service, method) => lookup(service, method) !== undefined,
    describe: (service) => descriptions.get(service),
    fingerprints: () => fingerprints,
    dispatch(service: string, method: string, input: unknown, context: CallContext) {
      const handler = lookup(service, method);
      if (handler === undefined) return Promise.reject(unknownMethodError(service, method));
      return handler(input, context) as Promise<unknown>;
    },
  };
}
