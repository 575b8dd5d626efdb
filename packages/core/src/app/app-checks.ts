/**
 * Mistakes the app and the topology already show, reported before any instance is built, each naming
 * the fix: a contract that is injected but that no service of the app implements, and a process that
 * other processes call but that has no address to call it at.
 */
import type { AppDefinition } from '../app.js';
import { AppDefinitionError } from '../errors.js';
import type { Provider } from '../service.js';
import { didYouMean } from '../suggest.js';
import { replicaAddresses } from '../topology/process-schema.js';
import type { Topology, TopologyIssue } from '../topology.js';
import { contractsReachedBy } from './dependencies.js';

/** A call one service makes to another, as its constructor (or a provider it injects) declares it. */
export interface DeclaredCall {
  /** The calling service. */
  readonly from: string;
  /** The called service. */
  readonly to: string;
  /** The class providers the call goes through (`[]` when the service's constructor injects the contract). */
  readonly via: readonly string[];
}

function providersByToken(app: AppDefinition): Map<unknown, Provider> {
  return new Map<unknown, Provider>(app.providers.map((p) => [p.token, p]));
}

/** The calls between the app's services, from their constructors' injection tokens. */
export function declaredCalls(app: AppDefinition): DeclaredCall[] {
  const providers = providersByToken(app);
  const calls: DeclaredCall[] = [];
  for (const registration of app.services) {
    const from = registration.contract.name;
    for (const [to, via] of contractsReachedBy(registration.implementation, providers)) {
      if (to !== from) calls.push({ from, to, via });
    }
  }
  return calls;
}

/**
 * Refuses an app in which a service or a class provider injects the contract of a service the app does
 * not list (its implementation was left out of `defineApp`).
 */
export function checkDeclaredDependencies(app: AppDefinition): void {
  const known = new Set(app.services.map((s) => s.contract.name));
  const providers = providersByToken(app);
  const classes: { readonly name: string; readonly cls: Function }[] = [
    ...app.services.map((s) => ({ name: s.implementation.name, cls: s.implementation as Function })),
    ...app.providers.flatMap((p) =>
      'useClass' in p ? [{ name: p.useClass.name, cls: p.useClass as Function }] : [],
    ),
  ];
  const problems: string[] = [];
  for (const { name, cls } of classes) {
    for (const [service, via] of contractsReachedBy(cls, providers)) {
      if (known.has(service)) continue;
      const through = via.length > 0 ? ` (through ${via.join(' → ')})` : '';
      problems.push(
        `${name || 'a class'} injects the contract "${service}"${through}, but no service of app "${app.name}" implements it${didYouMean(service, known)}; add service(<the contract>, <its implementation>) to the services of defineApp`,
      );
    }
  }
  if (problems.length > 0) {
    throw new AppDefinitionError(problems.join('\n'), { details: { problems } });
  }
}

/**
 * The issues of a multi-process topology whose called processes have no address: a process hosting a
 * service that a service in another process calls needs an `address` (or an override from `createApp`'s
 * `addresses`).
 */
export function unreachableCallees(
  app: AppDefinition,
  topology: Topology,
  addresses: Readonly<Record<string, string>> = {},
): TopologyIssue[] {
  const processOf = new Map<string, string>();
  for (const [name, entry] of Object.entries(topology.processes)) {
    for (const service of entry.services) processOf.set(service, name);
  }
  const issues = new Map<string, TopologyIssue>();
  for (const call of declaredCalls(app)) {
    const caller = processOf.get(call.from);
    const callee = processOf.get(call.to);
    if (caller === undefined || callee === undefined || caller === callee) continue;
    if (replicaAddresses(topology.processes[callee]!).length > 0 || addresses[callee] !== undefined) continue;
    if (issues.has(callee)) continue;
    issues.set(callee, {
      path: `topology.processes.${callee}.address`,
      message: `missing: process "${callee}" hosts "${call.to}", which "${call.from}" in process "${caller}" calls; add the URL other processes call it at, e.g. "address": "http://127.0.0.1:4001"`,
    });
  }
  return [...issues.values()];
}
