/**
 * The `method` side of the call chain: links composed onto the methods of an instance, in place, once
 * when the app creates it. This is how decorators (`@Cached`, `@Retry`, ...) of a hosted implementation
 * or a provider apply however the method is reached. An instance no link applies to is left untouched
 * (no proxy, no wrapper).
 */
import type { AnyContract } from '../contract.js';
import { composeChain, type Invocation, type Link, type LinkTarget } from './link.js';

/** Names of the methods of an instance's class chain (not `constructor`, not `Object`'s). */
export function methodNamesOf(instance: object): string[] {
  const names = new Set<string>();
  let prototype = Object.getPrototypeOf(instance);
  while (prototype && prototype !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
    prototype = Object.getPrototypeOf(prototype);
  }
  for (const name of Object.keys(instance)) {
    if (typeof (instance as Record<string, unknown>)[name] === 'function') names.add(name);
  }
  return [...names];
}

/** What {@link applyMethodLinks} is told about the instance. */
export interface MethodLinksTarget {
  /** The process creating the instance. */
  readonly process: string;
  /** The contract the instance implements, for a hosted service. */
  readonly contract?: AnyContract | undefined;
  /** Class name for names of breakers and metrics. Default: the instance's constructor name. */
  readonly className?: string | undefined;
}

/**
 * Composes `links` (in chain order) onto every method of `instance` they apply to; each wrapped method
 * becomes an own property of the instance. Returns the number of wrapped methods.
 *
 * @example
 * applyMethodLinks(repository, [cacheLink(cache)], { process: 'main' });
 */
export function applyMethodLinks(
  instance: object,
  links: readonly Link[],
  target: MethodLinksTarget,
): number {
  if (links.length === 0) return 0;
  const className = target.className ?? instance.constructor?.name ?? 'Object';
  let wrapped = 0;
  for (const method of methodNamesOf(instance)) {
    const original = (instance as Record<string, Invocation>)[method]!;
    const bound: Invocation = original.bind(instance);
    const linkTarget: LinkTarget = {
      entry: 'method',
      placement: 'local',
      process: target.process,
      className,
      method,
      contract: target.contract,
      definition: target.contract?.methods[method],
      instance,
    };
    const invocation = composeChain(links, linkTarget, bound);
    if (invocation === bound) continue;
    Object.defineProperty(instance, method, {
      value: invocation,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    wrapped++;
  }
  return wrapped;
}
