/**
 * The call chains of contracts: the client a caller receives (local or remote) and the methods the RPC
 * server dispatches to. Each is the same composition of the process's links; placement only chooses the
 * terminal link.
 */
import type { AnyContract } from '../contract.js';
import type { RpcClient } from '../rpc/types.js';
import { composeChain, type Invocation, type Link, type LinkTarget } from './link.js';

type Base = Pick<LinkTarget, 'process'>;

function target(
  base: Base,
  contract: AnyContract,
  method: string,
  entry: LinkTarget['entry'],
  placement: LinkTarget['placement'],
  className: string,
): LinkTarget {
  return {
    entry,
    placement,
    process: base.process,
    className,
    method,
    contract,
    definition: contract.methods[method],
  };
}

/**
 * The client of a service hosted in this process. When no link applies to any method (validation and
 * observability off), it is the implementation instance itself: a local call is a plain method call.
 */
export function localClient(
  links: readonly Link[],
  base: Base,
  contract: AnyContract,
  instance: object,
): object {
  const className = instance.constructor?.name ?? contract.name;
  const methods: Record<string, Invocation> = {};
  let wrapped = false;
  for (const method of contract.methodNames) {
    const terminal = methodOf(instance, method);
    const invocation = composeChain(
      links,
      target(base, contract, method, 'call', 'local', className),
      terminal,
    );
    if (invocation !== terminal) wrapped = true;
    methods[method] = invocation;
  }
  return wrapped ? Object.freeze(methods) : instance;
}

/** The client of a service hosted in another process, whose terminal link is `rpc`. */
export function remoteClient(
  links: readonly Link[],
  base: Base,
  contract: AnyContract,
  rpc: RpcClient,
): object {
  const className = `${contract.name}Client`;
  const methods: Record<string, Invocation> = {};
  for (const method of contract.methodNames) {
    const terminal: Invocation = (input, context) => rpc.call(contract.name, method, input, context);
    methods[method] = composeChain(
      links,
      target(base, contract, method, 'call', 'remote', className),
      terminal,
    );
  }
  return Object.freeze(methods);
}

/** The `serve` chain of each method of a hosted service, for the RPC server's dispatcher. */
export function servedMethods(
  links: readonly Link[],
  base: Base,
  contract: AnyContract,
  instance: object,
): Record<string, Invocation> {
  const className = instance.constructor?.name ?? contract.name;
  const methods: Record<string, Invocation> = {};
  for (const method of contract.methodNames) {
    methods[method] = composeChain(
      links,
      target(base, contract, method, 'serve', 'local', className),
      methodOf(instance, method),
    );
  }
  return methods;
}

/** The method of an instance, bound to it: its decorators already applied (the `method` side). */
function methodOf(instance: object, method: string): Invocation {
  const fn = (instance as Record<string, Invocation>)[method]!;
  return fn.bind(instance);
}
